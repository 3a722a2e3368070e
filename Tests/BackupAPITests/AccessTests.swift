import BackupAPI
import BackupCore
import Foundation
import Testing

/// The responder's own role check (PGBACKUP_OPERATORS), behind nginx's.
@Suite("Router: readers and operators")
struct AccessTests {
    static let readerRequests: [(String, String)] = [
        ("GET", "/api/backups"), ("HEAD", "/api/backups"), ("GET", "/api/backups/status"),
        ("HEAD", "/api/backups/status"), ("GET", "/api/backups/jobs/\(String(repeating: "0", count: 32))"),
    ]
    static let operatorRequests: [(String, String)] = [
        ("POST", "/api/backups"), ("POST", "/api/backups/cleanup"), ("POST", "/api/backups/restore"),
        ("DELETE", "/api/backups/backup_appdb_20260101_120000.sql.gz"),
        ("POST", "/api/backups/backup_appdb_20260101_120000.sql.gz/verify"),
        ("GET", "/api/backups/download/backup_appdb_20260101_120000.sql.gz"),
        ("HEAD", "/api/backups/download/backup_appdb_20260101_120000.sql.gz"),
        ("GET", "/api/backups/%64ownload/backup_appdb_20260101_120000.sql.gz"),
        ("PUT", "/api/backups/status"), ("OPTIONS", "/api/backups"), ("POST", "/api/backups/no/such/path"),
    ]

    @Test("a reader gets 403 forbidden for every operator request, before anything runs")
    func readerRefused() throws {
        let fixture = try RouterFixture()
        let backup = try fixture.makeBackup(ageHours: 1)
        for (method, uri) in Self.operatorRequests {
            let uri = uri.replacingOccurrences(of: "backup_appdb_20260101_120000.sql.gz", with: backup.filename)
            let response = fixture.handle(method, uri, json: method == "POST" ? #"{"dry_run": false}"# : nil, user: "bob")
            #expect(response.status == 403, "\(method) \(uri)")
            #expect(response.bodyBytes.isEmpty || String(decoding: response.bodyBytes, as: UTF8.self).contains("'bob' may only read"))
        }
        #expect(FileManager.default.fileExists(atPath: fixture.path(backup.filename)), "the reader deleted or cleaned up")
    }

    @Test("a reader may GET and HEAD list, status, metadata and jobs")
    func readerReads() throws {
        let fixture = try RouterFixture()
        let backup = try fixture.makeBackup(ageHours: 1)
        for (method, uri) in Self.readerRequests + [("GET", "/api/backups/\(backup.filename)")] {
            #expect(fixture.handle(method, uri, user: "bob").status != 403, "\(method) \(uri)")
        }
    }

    @Test("an operator passes; nobody authenticated does not")
    func operatorAndNobody() throws {
        let fixture = try RouterFixture()
        let backup = try fixture.makeBackup(ageHours: 1)
        #expect(fixture.handle("GET", "/api/backups/download/\(backup.filename)", user: nil).status == 403)
        #expect(fixture.handle("DELETE", "/api/backups/\(backup.filename)", user: nil).status == 403)
        #expect(fixture.handle("DELETE", "/api/backups/\(backup.filename)", user: "alice").status == 200)
    }

    @Test("PGBACKUP_OPERATORS unset: nobody may change anything, and the answer says why")
    func unset() throws {
        let fixture = try RouterFixture(operators: .unset)
        let response = fixture.handle("POST", "/api/backups/cleanup", user: "alice")
        #expect(response.status == 403)
        #expect(String(decoding: response.bodyBytes, as: UTF8.self).contains("PGBACKUP_OPERATORS is not set"))
        #expect(fixture.handle("GET", "/api/backups/status", user: "alice").status == 200)
    }

    @Test("PGBACKUP_OPERATORS parsing", arguments: [
        ("", Operators.unset), ("  ", .unset), ("*", .anyAuthenticated), (" * ", .anyAuthenticated),
        ("admin", .users(["admin"])), ("admin, ops ,backup.bot", .users(["admin", "ops", "backup.bot"])),
    ])
    func parse(_ text: String, _ expected: Operators) throws {
        #expect(try Operators.parse(text) == expected)
    }

    @Test("bad PGBACKUP_OPERATORS values are refused naming the variable", arguments: ["admin,", "*,admin", "a:b", ",", "a\u{1}"])
    func parseRefused(_ text: String) throws {
        #expect(throws: BackupError.self) { try Operators.parse(text) }
        let error = try? Configuration.parse(["PGBACKUP_OPERATORS": text])
        #expect(error == nil)
    }

    @Test("* permits any authenticated user, never an empty one")
    func star() {
        #expect(Operators.anyAuthenticated.permits("anyone"))
        #expect(!Operators.anyAuthenticated.permits(nil))
        #expect(!Operators.anyAuthenticated.permits(""))
        #expect(!Operators.unset.permits("admin"))
    }
}
