import Foundation
import Testing

/// A restore never waits forever behind an application's open transaction (issue 18 item 11): it gives up after
/// BACKUP_LOCK_WAIT_TIMEOUT naming who blocked it, or ends the target's other sessions when asked to.
@Suite("CLI: restore against open transactions", .serialized, .postgresCluster)
final class CLIRestoreLockTests {
    let ctx: CLITestContext
    static let shortTimeout = ["BACKUP_LOCK_WAIT_TIMEOUT": "2"]

    init() throws { ctx = try CLITestContext() }
    deinit { ctx.remove() }

    @Test func anOpenTransactionMakesTheRestoreGiveUpWithinTheTimeoutAndNameIt() throws {
        let db = try ctx.sampleDatabase("locked")
        let backup = try ctx.create(db, description: "to restore")
        try ctx.cluster.psql("UPDATE canary SET value = 'after the backup'", database: db)
        let dumpBefore = try ctx.cluster.normalisedDump(db)
        let app = try ApplicationSession(cluster: ctx.cluster, database: db, in: ctx.scratch.url)
        defer { app.close() }
        let pid = try app.run("BEGIN; SELECT count(*) FROM customers;")

        let started = Date()
        let result = try ctx.pgbackup(["restore", backup, "--yes", "--no-safety-backup"], database: db,
                                      env: Self.shortTimeout, timeout: .seconds(60))
        let seconds = Date().timeIntervalSince(started)
        #expect(result.status == 1, "\(result)")
        #expect(seconds < 20, "a 2 s lock timeout, but the restore took \(seconds) s")
        for expected in ["BACKUP_LOCK_WAIT_TIMEOUT=2s", "pid \(pid)", "user postgres", "application '\(app.applicationName)'",
                         "idle in transaction since 20", "lock timeout", "left unchanged", "--terminate-connections"] {
            #expect(result.err.contains(expected), "\(expected): \(result.err)")
        }
        DumpComparison.expectEqual(dumpBefore, try ctx.cluster.normalisedDump(db), "database after the timed-out restore")
        #expect(try ctx.cluster.psql("SELECT value FROM canary", database: db) == "after the backup")
        // The application's session is untouched, and pgbackup's lock is free again: a create goes ahead.
        #expect(app.isRunning)
        #expect(try app.backendPID(state: "idle in transaction") == pid)
        let status = try ctx.status(db)
        #expect(status["running"] == nil || status["running"] is NSNull, "\(status)")
        #expect((status["last_failure"] as? [String: Any])?["operation"] as? String == "restore")
        _ = try ctx.create(db, description: "the lock was released")

        // The JSON answer lists the blockers as data.
        let json = try ctx.pgbackup(["restore", backup, "--yes", "--no-safety-backup", "--json"], database: db,
                                    env: Self.shortTimeout, timeout: .seconds(60))
        #expect(json.status == 1, "\(json)")
        let answer = try json.jsonObject()
        #expect(answer["error"] as? String == "database_in_use")
        let blockers = try #require(answer["blocking_sessions"] as? [[String: Any]], "\(answer)")
        #expect(blockers.map { String(JSON.int($0["pid"]) ?? 0) } == [pid])
        #expect(blockers.first?["application_name"] as? String == app.applicationName)
        #expect(blockers.first?["state"] as? String == "idle in transaction")
        DumpComparison.expectEqual(dumpBefore, try ctx.cluster.normalisedDump(db), "database after the second attempt")
    }

    @Test func terminateConnectionsEndsTheTargetsSessionsAndOnlyThose() throws {
        let db = try ctx.sampleDatabase("terminate")
        let elsewhere = try ctx.sampleDatabase("bystander")
        let backup = try ctx.create(db, description: "to restore")
        try ctx.cluster.psql("UPDATE canary SET value = 'after the backup'", database: db)
        let app = try ApplicationSession(cluster: ctx.cluster, database: db, in: ctx.scratch.url)
        defer { app.close() }
        let appPID = try app.run("BEGIN; SELECT count(*) FROM customers;")
        let bystander = try ApplicationSession(cluster: ctx.cluster, database: elsewhere, in: ctx.scratch.url, name: "other")
        defer { bystander.close() }
        let bystanderPID = try bystander.run("BEGIN; SELECT count(*) FROM customers;")

        let result = try ctx.pgbackup(["restore", backup, "--yes", "--terminate-connections", "--json"], database: db,
                                      env: Self.shortTimeout, timeout: .seconds(120))
        #expect(result.status == 0, "\(result)")
        let answer = try result.jsonObject()
        let ended = try #require(answer["terminated_sessions"] as? [[String: Any]], "\(answer)")
        #expect(ended.map { String(JSON.int($0["pid"]) ?? 0) } == [appPID])
        #expect((answer["safety_backup"] as? [String: Any])?["kind"] as? String == "pre-restore")
        #expect(try ctx.cluster.psql("SELECT value FROM canary", database: db) == SampleSchema.canaryValue)
        #expect(try app.backendPID() == nil, "the application's session on the target must be gone")
        // The session on another database is still there, still in its transaction.
        #expect(try bystander.backendPID(state: "idle in transaction") == bystanderPID)
        #expect(bystander.isRunning)
    }

    /// `client_connection_check_interval`: a psql killed while its statement waits on a lock leaves no backend
    /// waiting on (and queued for) that lock until BACKUP_LOCK_WAIT_TIMEOUT.
    @Test func aPsqlKilledWhileTheRestoreWaitsOnALockLeavesNoBackendWaiting() throws {
        let db = try ctx.sampleDatabase("gone")
        let backup = try ctx.create(db, description: "to restore")
        let dumpBefore = try ctx.cluster.normalisedDump(db)
        let app = try ApplicationSession(cluster: ctx.cluster, database: db, in: ctx.scratch.url)
        defer { app.close() }
        try app.run("BEGIN; SELECT count(*) FROM customers;")

        let restore = try ctx.startPgbackup(["restore", backup, "--yes", "--no-safety-backup"], database: db,
                                            env: ["BACKUP_LOCK_WAIT_TIMEOUT": "120"])
        let waiting = """
            SELECT count(*) FROM pg_stat_activity
            WHERE datname = '\(db)' AND application_name = 'pgbackup' AND wait_event_type = 'Lock'
            """
        var deadline = Date().addingTimeInterval(60)
        while Date() < deadline, try ctx.cluster.psql(waiting) == "0" { usleep(50_000) }
        try #require(try ctx.cluster.psql(waiting) == "1", "the restore never waited on the lock")
        let psql = try #require(Self.children(of: restore.pid).first { Self.command($0) == "psql" }, "no psql child")
        kill(psql, SIGKILL)
        let finished = restore.wait(timeout: .seconds(60))
        #expect(finished.status == 1, "\(finished)")

        let killedAt = Date()
        deadline = killedAt.addingTimeInterval(10)
        while Date() < deadline, try ctx.cluster.psql(waiting) != "0" { usleep(100_000) }
        #expect(try ctx.cluster.psql(waiting) == "0",
                "a backend still waits on the lock \(Date().timeIntervalSince(killedAt)) s after its psql was killed")
        app.close()
        DumpComparison.expectEqual(dumpBefore, try ctx.cluster.normalisedDump(db), "database after the killed restore")
    }

    static func children(of pid: pid_t) -> [pid_t] {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        return text.split(separator: " ").compactMap { pid_t($0) }
    }

    static func command(_ pid: pid_t) -> String {
        ((try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
