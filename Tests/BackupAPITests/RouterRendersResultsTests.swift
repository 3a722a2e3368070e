import BackupAPI
import BackupCore
import Foundation
import TestSupport
import Testing

/// The router assembles no reply of its own: each answer's body is the JSON of the result the operation returned,
/// byte for byte, with the route's status.
@Suite("Router renders the operations' results")
struct RouterRendersResultsTests {
    static let created = Date(timeIntervalSince1970: 1_779_991_200)  // 2026-05-28T18:00:00Z

    /// The body as sent: pretty JSON and a newline.
    static func sent(_ json: JSON) -> [UInt8] { Array((json.serialized(pretty: true) + "\n").utf8) }

    @Test("delete: 200 with the DeleteResult")
    func delete() throws {
        let fixture = try RouterFixture()
        let backup = try fixture.makeBackup(created: Self.created)
        let response = fixture.handle("DELETE", "/api/backups/\(backup.filename)")
        #expect(response.status == 200)
        #expect(response.bodyBytes == Self.sent(DeleteResult(filename: backup.filename).json))
        #expect(try response.jsonBody == .object([("success", .bool(true)),
                                                  ("message", .string("Backup \(backup.filename) deleted"))]))
    }

    @Test("verify, info, status and cleanup: the operation's own JSON")
    func readReplies() throws {
        let fixture = try RouterFixture(maxCount: 1, retentionDays: 1)
        let old = try fixture.makeBackup(ageHours: 72)
        let new = try fixture.makeBackup(ageHours: 1)
        #expect(fixture.handle("POST", "/api/backups/\(new.filename)/verify").bodyBytes
            == Self.sent(try fixture.manager.verify(new.filename).json))
        #expect(fixture.handle("GET", "/api/backups/\(new.filename)").bodyBytes == Self.sent(try fixture.manager.info(new.filename).listingJSON))
        #expect(fixture.handle("GET", "/api/backups/status").bodyBytes == Self.sent(try fixture.manager.status().json))
        let dry = fixture.handle("POST", "/api/backups/cleanup?dry_run=true")
        #expect(dry.bodyBytes == Self.sent(try fixture.manager.cleanup(dryRun: true).json))
        #expect(try dry.jsonBody["deleted"] == .array([.string(old.filename)]))
    }

    @Test("list: the listing's JSON, as the CLI prints it")
    func list() throws {
        let fixture = try RouterFixture()
        try fixture.makeBackup(ageHours: 2)
        try fixture.makeBackup(ageHours: 1)
        #expect(try fixture.handle("GET", "/api/backups").jsonBody == fixture.manager.list().json)
    }

    @Test("an async request: 202 with the StartedJob; the jobs list is the JobList")
    func jobs() throws {
        let fixture = try RouterFixture()
        let response = fixture.handle("POST", "/api/backups", json: #"{"description": "nightly"}"#, prefer: "respond-async")
        #expect(response.status == 202)
        let json = try response.jsonBody
        let id = try #require(json["job"]?["id"]?.stringValue)
        guard case let .object(fields) = json else { throw HarnessError.setup("not an object: \(json.serialized())") }
        #expect(fields.map(\.0) == ["success", "message", "job"])
        #expect(json["message"] == .string("create started"))
        #expect(response.header("Location") == "/api/backups/jobs/\(id)")
        // Once the job's process (/bin/true) is gone its state no longer changes between two reads.
        for _ in 0..<100 where try fixture.handle("GET", "/api/backups/jobs/\(id)").jsonBody["state"] != .string("failed") {
            usleep(20_000)
        }
        let list = fixture.handle("GET", "/api/backups/jobs")
        let jobs = try JobRunner(manager: fixture.manager, executable: "/bin/true").recent()
        #expect(jobs.jobs.map(\.id) == [id])
        #expect(try list.jsonBody == jobs.json)
    }

    @Test("a failed operation is the error's JSON with the API table's status")
    func failure() throws {
        let fixture = try RouterFixture()
        let name = "backup_appdb_20200101_000000.sql.gz"
        let response = fixture.handle("DELETE", "/api/backups/\(name)")
        #expect(response.status == BackupError.notFound(name).httpStatus)
        #expect(response.bodyBytes == Self.sent(BackupError.notFound(name).json))
    }
}
