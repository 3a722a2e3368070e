import Foundation
import Testing

/// Through nginx: a restore with `"mode": "swap"` (synchronous and as a job), `POST /api/backups/rollback`, and the
/// refusals (an unknown mode, a busy target, nothing to roll back).
@Suite("API through nginx: restore mode swap and rollback", .serialized, .postgresCluster)
final class APISwapRestoreTests {
    let ctx: CLITestContext

    init() throws { ctx = try CLITestContext() }
    deinit { ctx.remove() }

    func canary(_ database: String) throws -> String {
        try ctx.cluster.psql("SELECT value FROM canary WHERE id = 1", database: database)
    }

    @Test func aSwapRestoreAndARollbackThroughNginx() throws {
        let database = try ctx.sampleDatabase("apiswap")
        let stack = try NginxStack(cluster: ctx.cluster, database: database)
        defer { stack.stop() }
        let created = try ctx.pgbackup(["create", "--json"], database: database, env: ["BACKUP_DIR": stack.backupDir.path])
        try #require(created.status == 0, "\(created)")
        let name = try #require((try created.jsonObject()["backup"] as? [String: Any])?["filename"] as? String)
        let dumpBackedUp = try ctx.cluster.normalisedDump(database)
        try ctx.cluster.psql("UPDATE canary SET value = 'changed'", database: database)

        let nothing = try stack.post("/api/backups/rollback", json: "{}")
        expectAPIError(nothing, 400, "invalid_input", "rollback with nothing kept")
        let unknown = try stack.post("/api/backups/restore", json: #"{"backup_filename": "\#(name)", "mode": "quick"}"#)
        expectAPIError(unknown, 400, "invalid_input", "an unknown mode")
        #expect(try canary(database) == "changed")

        let sync = try stack.post("/api/backups/restore", json: #"{"backup_filename": "\#(name)", "mode": "swap"}"#)
        #expect(sync.status == 200, "\(sync)")
        let answer = try sync.object()
        #expect(answer["mode"] as? String == "swap" && answer["safety_backup"] is NSNull, "\(answer)")
        let previous = try #require(answer["previous_database"] as? String, "\(answer)")
        #expect((JSON.double(answer["swap_seconds"]) ?? 99) <= 1, "\(answer)")
        DumpComparison.expectEqual(dumpBackedUp, try ctx.cluster.normalisedDump(database), "swapped in through the API")
        #expect(try canary(previous) == "changed")
        let status = try stack.get("/api/backups/status").object()
        #expect((status["previous_databases"] as? [[String: Any]])?.first?["name"] as? String == previous, "\(status)")

        // A session on the target: 409 naming it; the rollback changes nothing.
        let app = try ApplicationSession(cluster: ctx.cluster, database: database, in: ctx.scratch.url)
        try app.run("SELECT 1;", until: "idle")
        let busy = try stack.post("/api/backups/rollback", json: "{}")
        #expect(busy.status == 409, "\(busy)")
        let refusal = try busy.object()
        #expect(refusal["error"] as? String == "database_in_use", "\(refusal)")
        #expect((refusal["detail"] as? String ?? "").contains(app.applicationName), "\(refusal)")
        #expect((refusal["blocking_sessions"] as? [Any])?.count == 1, "\(refusal)")
        #expect(try canary(database) == SampleSchema.canaryValue)
        let back = try stack.post("/api/backups/rollback", json: #"{"terminate_connections": true}"#)
        #expect(back.status == 200, "\(back)")
        #expect(try back.object()["restored_database"] as? String == previous, "\(back)")
        #expect(try canary(database) == "changed")
        app.close()

        // As a job: the request records the mode.
        let accepted = try stack.post("/api/backups/restore", json: #"{"backup_filename": "\#(name)", "mode": "swap"}"#,
                                      headers: ["Prefer: respond-async"])
        #expect(accepted.status == 202, "\(accepted)")
        let job = try stack.waitForJob(try #require(accepted.header("Location")))
        #expect(job["state"] as? String == "succeeded", "\(job)")
        #expect((job["request"] as? [String: Any])?["mode"] as? String == "swap", "\(job)")
        #expect((job["result"] as? [String: Any])?["mode"] as? String == "swap", "\(job)")
        DumpComparison.expectEqual(dumpBackedUp, try ctx.cluster.normalisedDump(database), "swapped in by the job")
    }
}
