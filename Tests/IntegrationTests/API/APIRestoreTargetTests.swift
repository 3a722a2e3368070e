import Foundation
import Testing

/// Through nginx: a backup of another database is restored only into a target named in the request (issue 18
/// item 2), synchronously and with `Prefer: respond-async`; a blocked restore answers 409 naming the blockers.
@Suite("API through nginx: restore target and blocked restores", .serialized, .postgresCluster)
final class APIRestoreTargetTests {
    let ctx: CLITestContext

    init() throws { ctx = try CLITestContext() }
    deinit { ctx.remove() }

    /// A backup of `database` made by the CLI into the stack's backup directory.
    func backup(of database: String, into stack: NginxStack) throws -> String {
        let result = try ctx.pgbackup(["create", "--json"], database: database, env: ["BACKUP_DIR": stack.backupDir.path])
        try #require(result.status == 0, "\(result)")
        return try #require((try result.jsonObject()["backup"] as? [String: Any])?["filename"] as? String)
    }

    @Test func aBackupOfAnotherDatabaseNeedsTargetDatabaseSyncAndAsync() throws {
        let staging = try ctx.sampleDatabase("apistaging")
        let production = try ctx.sampleDatabase("apiproduction")
        let stack = try NginxStack(cluster: ctx.cluster, database: production)
        defer { stack.stop() }
        let name = try backup(of: staging, into: stack)
        try ctx.cluster.psql("UPDATE canary SET value = 'production data'", database: production)
        let dumpBefore = try ctx.cluster.normalisedDump(production)

        let body = #"{"backup_filename": "\#(name)"}"#
        for headers in [[], ["Prefer: respond-async"]] {
            let refused = try stack.post("/api/backups/restore", json: body, headers: headers)
            expectAPIError(refused, 400, "target_database_required", "restore of staging's backup, headers \(headers)")
            let detail = (try? refused.object())?["detail"] as? String ?? ""
            #expect(detail.contains("'\(staging)'") && detail.contains("'\(production)'"), "\(detail)")
        }
        DumpComparison.expectEqual(dumpBefore, try ctx.cluster.normalisedDump(production), "production after the refusals")
        #expect(try stack.get("/api/backups").array().count == 1, "no safety backup, no job")

        // Named explicitly, both go ahead.
        let named = #"{"backup_filename": "\#(name)", "target_database": "\#(production)", "safety_backup": false}"#
        let sync = try stack.post("/api/backups/restore", json: named)
        #expect(sync.status == 200, "\(sync)")
        #expect(try sync.object()["target_database"] as? String == production)
        #expect(try ctx.cluster.psql("SELECT value FROM canary", database: production) == SampleSchema.canaryValue)

        try ctx.cluster.psql("UPDATE canary SET value = 'production data'", database: production)
        let accepted = try stack.post("/api/backups/restore", json: named, headers: ["Prefer: respond-async"])
        #expect(accepted.status == 202, "\(accepted)")
        let job = try stack.waitForJob(try #require(accepted.header("Location")))
        #expect(job["state"] as? String == "succeeded", "\(job)")
        #expect(try ctx.cluster.psql("SELECT value FROM canary", database: production) == SampleSchema.canaryValue)
    }

    @Test func aRestoreBlockedByAnOpenTransactionAnswers409NamingItAndTerminateConnectionsEndsIt() throws {
        let db = try ctx.sampleDatabase("apilocked")
        let stack = try NginxStack(cluster: ctx.cluster, database: db, settings: ["BACKUP_LOCK_WAIT_TIMEOUT": "2"])
        defer { stack.stop() }
        let name = try backup(of: db, into: stack)
        try ctx.cluster.psql("UPDATE canary SET value = 'after the backup'", database: db)
        let app = try ApplicationSession(cluster: ctx.cluster, database: db, in: ctx.scratch.url)
        defer { app.close() }
        let pid = try app.run("BEGIN; SELECT count(*) FROM orders;")

        let blocked = try stack.post("/api/backups/restore", json: #"{"backup_filename": "\#(name)", "safety_backup": false}"#)
        #expect(blocked.status == 409, "\(blocked)")
        let error = try blocked.object()
        #expect(error["error"] as? String == "database_in_use")
        let blockers = error["blocking_sessions"] as? [[String: Any]] ?? []
        #expect(blockers.map { String(JSON.int($0["pid"]) ?? 0) } == [pid], "\(error)")
        #expect(try ctx.cluster.psql("SELECT value FROM canary", database: db) == "after the backup")

        let ended = try stack.post("/api/backups/restore",
                                   json: #"{"backup_filename": "\#(name)", "safety_backup": false, "terminate_connections": true}"#,
                                   headers: ["Prefer: respond-async"])
        #expect(ended.status == 202, "\(ended)")
        let job = try stack.waitForJob(try #require(ended.header("Location")))
        #expect(job["state"] as? String == "succeeded", "\(job)")
        #expect((job["request"] as? [String: Any])?["terminate_connections"] as? Bool == true)
        let terminated = (job["result"] as? [String: Any])?["terminated_sessions"] as? [[String: Any]] ?? []
        #expect(terminated.map { String(JSON.int($0["pid"]) ?? 0) } == [pid], "\(job)")
        #expect(try ctx.cluster.psql("SELECT value FROM canary", database: db) == SampleSchema.canaryValue)
        #expect(try app.backendPID() == nil)
    }
}
