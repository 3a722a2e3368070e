import Foundation
import TestSupport
import Testing

/// The scheduler's drill: after its backup, every BACKUP_DRILL_INTERVAL_HOURS (0 = never); a failed drill is
/// reported but the run that made a backup still exits 0.
@Suite("Scheduler: restore drills after the backup", .serialized, .postgresCluster)
final class SchedulerDrillTests {
    let ctx: CLITestContext

    init() throws { ctx = try CLITestContext() }
    deinit { ctx.remove() }

    func scheduler(_ database: String, env extra: [String: String] = [:]) throws -> ProcessResult {
        try ProcessRunner.run(
            try Binaries.path("pgbackup-scheduler"), [], environment: ctx.environment(database: database, extra: extra),
            timeout: .seconds(180))
    }

    func scheduledBackups(_ db: String) throws -> [String] {
        try ctx.list(db).filter { $0["kind"] as? String == "scheduled" }.compactMap { $0["filename"] as? String }
    }

    @Test func drillsTheNewBackupAfterItThenWaitsForTheInterval() throws {
        let db = try ctx.sampleDatabase("sched_drill")
        let first = try scheduler(db)
        #expect(first.status == 0, "\(first)")
        let name = try #require(try scheduledBackups(db).first)
        let backupLine = try #require(first.err.range(of: "Scheduled backup completed"), "\(first.err)")
        let drillLine = try #require(first.err.range(of: "Running scheduled restore drill of \(name)"), "\(first.err)")
        #expect(backupLine.lowerBound < drillLine.lowerBound, "the drill comes after the backup")
        #expect(first.err.contains("every table's row count matches"), "\(first.err)")
        #expect((try ctx.sidecar(name)["last_drill"] as? [String: Any])?["passed"] as? Bool == true)
        #expect((try ctx.status(db)["last_drill"] as? [String: Any])?["backup"] as? String == name)

        // Due for a backup again, but the last drill is younger than 168 h: backup only.
        try ctx.ageBackup(name, days: 2)
        let second = try scheduler(db)
        #expect(second.status == 0, "\(second)")
        #expect(try scheduledBackups(db).count == 2)
        #expect(!second.err.contains("restore drill"), "\(second.err)")

        // With an interval of 1 h and a drill older than that, the run drills again; 0 never does.
        for backup in try scheduledBackups(db) { try ctx.ageBackup(backup, days: 2) }
        let never = try scheduler(db, env: ["BACKUP_DRILL_INTERVAL_HOURS": "0"])
        #expect(never.status == 0 && !never.err.contains("restore drill"), "\(never)")
        var state = try JSON.object(try Data(contentsOf: ctx.backupDir.appendingPathComponent(".state.json")))
        var drill = try #require(state["last_drill"] as? [String: Any])
        drill["at"] = TimeText.iso8601(Date().addingTimeInterval(-7200))
        state["last_drill"] = drill
        try JSON.write(state, to: ctx.backupDir.appendingPathComponent(".state.json"))
        for backup in try scheduledBackups(db) { try ctx.ageBackup(backup, days: 2) }
        let hourly = try scheduler(db, env: ["BACKUP_DRILL_INTERVAL_HOURS": "1"])
        #expect(hourly.status == 0, "\(hourly)")
        #expect(hourly.err.contains("Running scheduled restore drill"), "\(hourly.err)")
    }

    @Test func aFailedDrillIsReportedButTheBackupRunStillExitsZero() throws {
        let db = try ctx.emptyDatabase("sched_drill_fail")
        try ctx.cluster.psql("CREATE TABLE t (id int); INSERT INTO t VALUES (1);", database: db)
        let role = CLITestContext.uniqueName("reader")
        try ctx.cluster.psql("CREATE ROLE \(role) LOGIN NOCREATEDB IN ROLE pg_read_all_data")
        let result = try scheduler(db, env: ["POSTGRES_USER": role])
        #expect(result.status == 0, "\(result)")
        #expect(try scheduledBackups(db).count == 1, "the backup was made")
        #expect(result.err.contains("Scheduled restore drill failed"), "\(result.err)")
        #expect(result.err.contains("may not create databases"), "\(result.err)")
        let failure = try #require(try ctx.status(db)["last_failure"] as? [String: Any])
        #expect(failure["operation"] as? String == "drill")
    }
}
