import Foundation
import TestSupport
import Testing

/// The real `pgbackup-scheduler` binary against a real PostgreSQL: disabled, first run, not due, due again,
/// failure recorded, and busy.
@Suite("Scheduler: the oneshot binary", .serialized, .postgresCluster)
final class SchedulerTests {
    let ctx: CLITestContext

    init() throws { ctx = try CLITestContext() }
    deinit { ctx.remove() }

    func scheduler(_ database: String, env extra: [String: String] = [:]) throws -> ProcessResult {
        try ProcessRunner.run(
            try Binaries.path("pgbackup-scheduler"), [], environment: ctx.environment(database: database, extra: extra),
            timeout: .seconds(180))
    }

    @Test func disabledLogsAndExitsZeroWithoutABackup() throws {
        let db = try ctx.sampleDatabase("sched_off")
        let result = try scheduler(db, env: ["BACKUP_ENABLED": "false"])
        #expect(result.status == 0, "\(result)")
        #expect(result.err.contains("disabled"), "\(result.err)")
        #expect(ctx.dumpFiles().isEmpty)
    }

    @Test func firstRunBacksUpThenNotDueThenDueAgain() throws {
        let db = try ctx.sampleDatabase("sched")
        let first = try scheduler(db)
        #expect(first.status == 0, "\(first)")
        #expect(first.err.contains("Running scheduled backup..."), "\(first.err)")
        #expect(first.err.contains("Backup created successfully: backup_\(db)_"), "\(first.err)")
        let backups = try ctx.list(db)
        #expect(backups.count == 1)
        let made = try #require(backups.first)
        #expect(made["kind"] as? String == "scheduled")
        #expect(made["description"] as? String == "Automated scheduled backup")
        let name = try #require(made["filename"] as? String)
        #expect(try ctx.pgbackup(["verify", name], database: db).status == 0)

        // A manual backup made since does not push the schedule either way.
        try ctx.create(db, description: "manual")
        let notDue = try scheduler(db)
        #expect(notDue.status == 0, "\(notDue)")
        #expect(notDue.err.contains("not due"), "\(notDue.err)")
        #expect(notDue.err.contains("next due at"), "\(notDue.err)")
        #expect(try ctx.list(db).count == 2)

        // Once the scheduled backup is older than the interval, the next run makes another.
        try ctx.ageBackup(name, days: 2)
        let due = try scheduler(db)
        #expect(due.status == 0, "\(due)")
        #expect(try ctx.list(db).filter { $0["kind"] as? String == "scheduled" }.count == 2)
    }

    @Test func failureExitsNonZeroAndIsRecordedForStatus() throws {
        let db = try ctx.sampleDatabase("sched_fail")
        let result = try scheduler(db, env: ["POSTGRES_PORT": "1"])
        #expect(result.status != 0, "\(result)")
        #expect(result.err.contains("Scheduled backup failed"), "\(result.err)")
        #expect(ctx.dumpFiles().isEmpty)
        let status = try ctx.status(db, env: ["POSTGRES_PORT": "1"])
        let failure = try #require(status["last_failure"] as? [String: Any], "no failure recorded: \(status)")
        #expect(failure["operation"] as? String == "create")
        #expect(status["healthy"] as? Bool == false)
    }

    @Test func busyExitsThreeWithAClearMessageInsteadOfWaiting() throws {
        let db = try ctx.sampleDatabase("sched_busy")
        let tableLock = try ctx.cluster.holdTableLock("customers", in: db, seconds: 300)
        defer { tableLock.release() }
        let manual = try ctx.startPgbackup(["create", "-d", "holds the lock"], database: db)
        defer { _ = manual.wait(timeout: .seconds(60)) }
        // Wait until the manual create holds pgbackup's lock (status names it).
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, (try ctx.status(db))["running"] is NSNull { usleep(50_000) }
        let started = Date()
        let result = try scheduler(db)
        #expect(result.status == 3, "\(result)")
        #expect(result.err.contains("another operation is running: create"), "\(result.err)")
        #expect(Date().timeIntervalSince(started) < 30, "the scheduler must not wait for the lock")
        tableLock.release()
    }
}
