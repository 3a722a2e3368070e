import Foundation
import TestSupport
import Testing

/// Query strings, HEAD and the jobs list through the real nginx, against real backups.
@Suite("API through nginx: query strings, HEAD, jobs", .serialized, .postgresCluster)
final class APIQueryAndHeadTests {
    let cluster: PostgresCluster

    init() throws { cluster = try SharedCluster.require() }

    @Test("POST cleanup?dry_run=true deletes nothing; unknown parameters are a 400 that runs nothing")
    func dryRunQuery() throws {
        let db = CLITestContext.uniqueName("query")
        try cluster.createDatabase(db)
        try SampleSchema.load(into: db, on: cluster)
        let stack = try NginxStack(cluster: cluster, database: db, settings: ["BACKUP_MAX_COUNT": "1", "BACKUP_RETENTION_DAYS": "1"])
        defer { stack.stop() }
        for _ in 0..<2 {
            let created = try stack.post("/api/backups")
            try #require(created.status == 201, "\(created)")
        }
        // Two backups made a second apart are both young; age the older one so retention wants it gone.
        let names = try stack.get("/api/backups").array().compactMap { $0["filename"] as? String }
        try #require(names.count == 2)
        let oldSidecar = stack.backupDir.appendingPathComponent(names[1] + ".json")
        let text = try String(contentsOf: oldSidecar, encoding: .utf8)
        let aged = try NSRegularExpression(pattern: #""created_at"\s*:\s*"[^"]*""#)
            .stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text),
                                      withTemplate: #""created_at": "2020-01-01T00:00:00.000000Z""#)
        try aged.write(to: oldSidecar, atomically: true, encoding: .utf8)
        let before = try stack.snapshot()

        let dry = try stack.request("POST", "/api/backups/cleanup?dry_run=true")
        #expect(dry.status == 200, "\(dry)")
        #expect((try dry.object()["deleted"] as? [Any])?.count == 1, "\(dry)")
        #expect(try stack.snapshot() == before, "a dry run through the query string deleted files")

        for path in ["/api/backups/cleanup?dryrun=true", "/api/backups/cleanup?dry_run=true&dry_run=false",
                     "/api/backups/cleanup?dry_run=nope"] {
            let refused = try stack.request("POST", path)
            #expect(refused.status == 400, "\(path): \(refused)")
            #expect(try refused.object()["success"] as? Bool == false)
        }
        let contradicting = try stack.post("/api/backups/cleanup?dry_run=true", json: #"{"dry_run": false}"#)
        #expect(contradicting.status == 400, "\(contradicting)")
        #expect(try stack.snapshot() == before, "a refused query ran a cleanup")

        let real = try stack.request("POST", "/api/backups/cleanup?dry_run=false")
        #expect(real.status == 200, "\(real)")
        #expect(try stack.get("/api/backups").array().compactMap { $0["filename"] as? String } == [names[0]])
    }

    @Test("HEAD answers with GET's headers and Content-Length; the jobs list answers")
    func headAndJobs() throws {
        let db = CLITestContext.uniqueName("head")
        try cluster.createDatabase(db)
        let stack = try NginxStack(cluster: cluster, database: db)
        defer { stack.stop() }
        let job = try stack.request("POST", "/api/backups", headers: ["Prefer: respond-async"])
        try #require(job.status == 202, "\(job)")
        let location = try #require(job.header("Location"))
        #expect(try stack.waitForJob(location)["state"] as? String == "succeeded")
        let name = try #require(try stack.get("/api/backups").array().first?["filename"] as? String)

        for path in ["/api/backups", "/api/backups/status", "/api/backups/\(name)", "/api/backups/jobs", location] {
            let get = try stack.get(path)
            let head = try stack.request("HEAD", path)
            #expect(head.status == 200 && get.status == 200, "\(path): \(head.status) \(get.status)")
            #expect(head.header("Content-Length") == String(get.body.count), "\(path): HEAD says \(head.header("Content-Length") ?? "-"), GET sent \(get.body.count)")
            #expect(head.header("Content-Type") == get.header("Content-Type"), "\(path)")
        }
        let jobs = try stack.get("/api/backups/jobs").array()
        #expect(jobs.first?["id"] as? String == location.split(separator: "/").last.map(String.init))
        let unknown = try stack.get("/api/backups/jobs/" + String(repeating: "0", count: 32))
        #expect(unknown.status == 404 && unknown.text.contains("no job with id"), "\(unknown)")
    }
}
