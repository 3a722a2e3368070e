import Foundation
import TestSupport
import Testing

/// `POST /api/backups/{name}/drill` through nginx: synchronous (200, or 422 with the drill) and as a job.
@Suite("API through nginx: restore drills", .serialized, .postgresCluster)
final class APIDrillTests {
    let cluster: PostgresCluster

    init() throws { cluster = try SharedCluster.require() }

    func scratchDatabases() throws -> [String] {
        try cluster.psql("SELECT datname FROM pg_database WHERE datname LIKE 'pgbackup_drill%'")
            .split(separator: "\n").map(String.init)
    }

    /// A database with the sample schema behind nginx, its normalised dump, and one backup made through the API.
    func stackWithBackup(_ prefix: String) throws -> (db: String, stack: NginxStack, before: String, name: String) {
        let db = CLITestContext.uniqueName(prefix)
        try cluster.createDatabase(db)
        try SampleSchema.load(into: db, on: cluster)
        let stack = try NginxStack(cluster: cluster, database: db)
        do {
            let before = try cluster.normalisedDump(db)
            let created = try stack.post("/api/backups", json: #"{"description": "to drill"}"#)
            #expect(created.status == 201, "\(created)")
            let name = try #require((try created.object()["backup"] as? [String: Any])?["filename"] as? String)
            return (db, stack, before, name)
        } catch {
            stack.stop()
            throw error
        }
    }

    @Test("a synchronous drill answers 200 with the counts; edited counts answer 422 naming the table")
    func syncDrill() throws {
        let (db, stack, before, name) = try stackWithBackup("apidrill")
        defer { stack.stop() }

        let drilled = try stack.post("/api/backups/\(name)/drill", json: nil)
        #expect(drilled.status == 200, "\(drilled)")
        let answer = try drilled.object()
        #expect(answer["passed"] as? Bool == true && answer["compared"] as? Bool == true)
        #expect(JSON.int((answer["tables"] as? [String: Any])?["public.orders"]) == 5_000)
        let info = try stack.get("/api/backups/\(name)").object()
        #expect((info["last_drill"] as? [String: Any])?["passed"] as? Bool == true)
        #expect(JSON.int((info["tables"] as? [String: Any])?["public.orders"]) == 5_000)
        #expect(((try stack.get("/api/backups/status").object())["last_drill"] as? [String: Any])?["passed"] as? Bool == true)

        let sidecarURL = stack.backupDir.appendingPathComponent(name + ".json")
        var sidecar = try JSON.object(try Data(contentsOf: sidecarURL))
        var tables = try #require(sidecar["tables"] as? [String: Any])
        tables["public.canary"] = 2
        sidecar["tables"] = tables
        try JSON.write(sidecar, to: sidecarURL)
        let failed = try stack.post("/api/backups/\(name)/drill", json: nil)
        #expect(failed.status == 422, "\(failed)")
        #expect(try failed.object()["error"] as? String == "drill_failed")
        let mismatches = ((try failed.object()["drill"] as? [String: Any])?["mismatches"] as? [[String: Any]]) ?? []
        #expect(mismatches.map { $0["table"] as? String } == ["public.canary"])
        #expect(try scratchDatabases().isEmpty)
        DumpComparison.expectEqual(before, try cluster.normalisedDump(db), "production before and after the drills")
        #expect(try stack.post("/api/backups/backup_\(db)_20200101_000000.sql.gz/drill", json: nil).status == 404)
    }

    @Test("Prefer: respond-async: 202 + Location, the job is polled to succeeded with the drill's result")
    func asyncDrill() throws {
        let (db, stack, before, name) = try stackWithBackup("apiasyncdrill")
        defer { stack.stop() }

        let accepted = try stack.post("/api/backups/\(name)/drill", json: nil, headers: ["Prefer: respond-async"])
        #expect(accepted.status == 202, "\(accepted)")
        let location = try #require(accepted.header("Location"))
        let job = try stack.waitForJob(location)
        #expect(job["state"] as? String == "succeeded", "\(job)")
        #expect(job["operation"] as? String == "drill")
        let result = try #require(job["result"] as? [String: Any])
        #expect(result["passed"] as? Bool == true && result["backup_filename"] as? String == name)
        #expect(try scratchDatabases().isEmpty)
        DumpComparison.expectEqual(before, try cluster.normalisedDump(db), "production before and after the drill")
    }
}
