import BackupAPI
import BackupCore
import Foundation
import Testing

/// `Prefer: respond-async` answers 202 with a Location at once; the job's state is a file any responder reads.
/// Here the job program is /bin/true, which exits without running it, so the job is later reported failed.
@Suite("Asynchronous requests")
struct AsyncJobTests {
    static let name = "backup_appdb_20260528_180000.sql.gz"

    @Test("async create: 202, Location of the job, the job readable at that location",
          arguments: ["respond-async", "RESPOND-ASYNC", "wait=5, respond-async", " respond-async ,return=minimal"])
    func asyncCreate(_ prefer: String) throws {
        let fixture = try RouterFixture()
        let response = fixture.handle("POST", "/api/backups", json: #"{"description": "nightly"}"#, prefer: prefer,
                                      user: "carol")
        #expect(response.status == 202)
        let json = try response.jsonBody
        #expect(json["success"] == .bool(true))
        #expect(json["message"] == .string("create started"))
        let id = try #require(json["job"]?["id"]?.stringValue)
        #expect(Job.isValidID(id))
        #expect(response.header("Location") == "/api/backups/jobs/\(id)")
        #expect(json["job"]?["operation"] == .string("create"))
        #expect(json["job"]?["user"] == .string("carol"))
        #expect(json["job"]?["request"]?["description"] == .string("nightly"))
        #expect(fixture.jobFiles() == ["\(id).json"])

        let job = fixture.handle("GET", "/api/backups/jobs/\(id)")
        #expect(job.status == 200)
        let jobJSON = try job.jsonBody
        #expect(jobJSON["id"] == .string(id))
        #expect(jobJSON["user"] == .string("carol"))
        let state = jobJSON["state"]?.stringValue ?? ""
        #expect(["queued", "failed"].contains(state), "state \(state)")
    }

    @Test("respond-async with a preference parameter still asks for async (RFC 7240 §2 grammar)")
    func preferWithParameter() throws {
        let fixture = try RouterFixture()
        // Answered synchronously today: the router compares the whole list item, so it tries pg_dump (503 here).
        let response = fixture.handle("POST", "/api/backups", json: "{}", prefer: "respond-async; foo=1")
        #expect(response.status == 202, "got \(response.status)")
    }

    @Test("a job whose process ended without finishing is reported failed")
    func deadJobFails() throws {
        let fixture = try RouterFixture()
        let id = try #require(try fixture.handle("POST", "/api/backups", prefer: "respond-async").jsonBody["job"]?["id"]?.stringValue)
        var state = ""
        for _ in 0..<100 {
            state = try fixture.handle("GET", "/api/backups/jobs/\(id)").jsonBody["state"]?.stringValue ?? ""
            if state == "failed" { break }
            usleep(20_000)
        }
        #expect(state == "failed")
        let error = try fixture.handle("GET", "/api/backups/jobs/\(id)").jsonBody["error"]
        #expect(error?["success"] == .bool(false))
        #expect(error?["detail"]?.stringValue?.contains("ended before finishing") == true)
    }

    @Test("async drill: 202 with the backup recorded; a missing or invalid backup is refused at once")
    func asyncDrill() throws {
        let fixture = try RouterFixture()
        try fixture.makeBackup(created: Date(timeIntervalSince1970: 1_779_991_200))
        let response = fixture.handle("POST", "/api/backups/\(Self.name)/drill", prefer: "respond-async")
        #expect(response.status == 202)
        let job = try response.jsonBody["job"]
        #expect(job?["operation"] == .string("drill"))
        #expect(job?["request"] == .object([("backup_filename", .string(Self.name))]))
        try fixture.handle("POST", "/api/backups/backup_appdb_20200101_000000.sql.gz/drill", prefer: "respond-async")
            .expectError(404, "not_found")
        try fixture.handle("POST", "/api/backups/x.sql.gz/drill", prefer: "respond-async").expectError(400, "invalid_input")
        try fixture.handle("POST", "/api/backups/\(Self.name)/drill", json: #"{"x": 1}"#, prefer: "respond-async")
            .expectError(400, "unknown_field")
    }

    @Test("async restore: 202 with the request recorded; sync-only checks still apply first")
    func asyncRestore() throws {
        let fixture = try RouterFixture()
        try fixture.makeBackup(created: Date(timeIntervalSince1970: 1_779_991_200))
        let response = fixture.handle("POST", "/api/backups/restore",
                                      json: #"{"backup_filename": "\#(Self.name)", "target_database": "scratch", "safety_backup": false}"#,
                                      prefer: "respond-async")
        #expect(response.status == 202)
        let job = try response.jsonBody["job"]
        #expect(job?["operation"] == .string("restore"))
        #expect(job?["request"] == .object([("backup_filename", .string(Self.name)), ("target_database", .string("scratch")),
                                            ("safety_backup", .bool(false)), ("terminate_connections", .bool(false)),
                                            ("mode", .string("transaction"))]))
        try fixture.handle("POST", "/api/backups/restore", json: #"{"backup_filename": "x.sql.gz"}"#, prefer: "respond-async")
            .expectError(400, "invalid_input")
        try fixture.handle("POST", "/api/backups/restore", json: #"{"backup_filename": 1}"#, prefer: "respond-async")
            .expectError(400, "invalid_field_type")
    }

    @Test("an async restore is refused at once when the backup or the target is unusable")
    func asyncRestoreChecksFirst() throws {
        let fixture = try RouterFixture()
        // The synchronous request answers 404 / 400 for these; accepting them as jobs only to fail later hides
        // a client mistake behind a 202.
        try fixture.handle("POST", "/api/backups/restore", json: #"{"backup_filename": "backup_appdb_20200101_000000.sql.gz"}"#,
                           prefer: "respond-async").expectError(404, "not_found")
        try fixture.makeBackup(created: Date(timeIntervalSince1970: 1_779_991_200))
        try fixture.handle("POST", "/api/backups/restore",
                           json: #"{"backup_filename": "\#(Self.name)", "target_database": "no spaces"}"#,
                           prefer: "respond-async").expectError(400, "invalid_input")
        // A backup of another database than the configured one, without a named target: 400, never a job.
        let other = try fixture.makeBackup(database: "staging", created: Date(timeIntervalSince1970: 1_779_991_200))
        try fixture.handle("POST", "/api/backups/restore", json: #"{"backup_filename": "\#(other.filename)"}"#,
                           prefer: "respond-async").expectError(400, "target_database_required", detailContains: "'staging'")
    }

    @Test("jobs: unknown id is 404, HEAD answers without a body")
    func jobReads() throws {
        let fixture = try RouterFixture()
        try fixture.handle("GET", "/api/backups/jobs/\(String(repeating: "0", count: 32))").expectError(404, "not_found")
        let id = try #require(try fixture.handle("POST", "/api/backups", prefer: "respond-async").jsonBody["job"]?["id"]?.stringValue)
        let head = fixture.handle("HEAD", "/api/backups/jobs/\(id)")
        #expect(head.status == 200)
        #expect(head.bodyBytes.isEmpty)
    }

    @Test("a Prefer header without respond-async keeps the request synchronous")
    func otherPreferences() throws {
        let fixture = try RouterFixture()
        let response = fixture.handle("POST", "/api/backups/cleanup", prefer: "return=minimal")
        #expect(response.status == 200)
        #expect(response.header("Location") == nil)
        // respond-async on cleanup, which is quick and has no job kind, is answered synchronously.
        #expect(fixture.handle("POST", "/api/backups/cleanup", prefer: "respond-async").status == 200)
    }
}
