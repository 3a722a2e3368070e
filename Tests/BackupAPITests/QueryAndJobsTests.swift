import BackupAPI
import BackupCore
import Foundation
import Testing

@Suite("Query strings, HEAD headers and the jobs list")
struct QueryAndJobsTests {
    @Test("cleanup honours ?dry_run: nothing is deleted", arguments: ["dry_run=true", "dry_run=1", "dry_run=TRUE", "dry_run=yes"])
    func dryRunInTheQuery(_ query: String) throws {
        let fixture = try RouterFixture(maxCount: 1, retentionDays: 1)
        try fixture.makeBackup(ageHours: 100)
        try fixture.makeBackup(ageHours: 50)
        try fixture.makeBackup(ageHours: 1)
        let before = fixture.names()
        let response = fixture.handle("POST", "/api/backups/cleanup?\(query)")
        #expect(response.status == 200)
        #expect(try response.jsonBody["dry_run"]?.boolValue == true)
        #expect(items(try response.jsonBody["deleted"])?.count == 2)
        #expect(fixture.names() == before, "a dry run deleted files")
    }

    @Test("cleanup ?dry_run=false is a real cleanup")
    func realCleanupInTheQuery() throws {
        let fixture = try RouterFixture(maxCount: 1, retentionDays: 1)
        try fixture.makeBackup(ageHours: 100)
        try fixture.makeBackup(ageHours: 1)
        #expect(fixture.handle("POST", "/api/backups/cleanup?dry_run=false").status == 200)
        #expect(fixture.names().count == 2, "one backup and its sidecar are left")
    }

    struct Refused: Sendable, CustomTestStringConvertible {
        let method: String
        let uri: String
        let body: String?
        let code: String
        let detail: String
        var testDescription: String { "\(method) \(uri)" }
    }

    static let refused: [Refused] = [
        Refused(method: "POST", uri: "/api/backups/cleanup?dryrun=true", body: nil, code: "unknown_query_parameter",
                detail: "unknown query parameter 'dryrun'; allowed: dry_run"),
        Refused(method: "POST", uri: "/api/backups/cleanup?dry_run=maybe", body: nil, code: "invalid_query",
                detail: "must be true or false"),
        Refused(method: "POST", uri: "/api/backups/cleanup?dry_run=true&dry_run=false", body: nil, code: "invalid_query",
                detail: "more than once"),
        Refused(method: "POST", uri: "/api/backups/cleanup?dry_run=true", body: #"{"dry_run": false}"#, code: "invalid_query",
                detail: "contradicts"),
        Refused(method: "POST", uri: "/api/backups/cleanup?dry_run=%ZZ", body: nil, code: "invalid_query", detail: "percent-encoded"),
        Refused(method: "GET", uri: "/api/backups?limit=5", body: nil, code: "unknown_query_parameter",
                detail: "unknown query parameter 'limit'; this path takes none"),
        Refused(method: "GET", uri: "/api/backups/status?verbose", body: nil, code: "unknown_query_parameter", detail: "'verbose'"),
        Refused(method: "POST", uri: "/api/backups?description=x", body: nil, code: "unknown_query_parameter", detail: "'description'"),
        Refused(method: "POST", uri: "/api/backups/restore?backup_filename=x", body: nil, code: "unknown_query_parameter",
                detail: "'backup_filename'"),
        Refused(method: "DELETE", uri: "/api/backups/backup_appdb_20260528_180000.sql.gz?force=1", body: nil,
                code: "unknown_query_parameter", detail: "'force'"),
    ]

    @Test("unknown, repeated, malformed or contradicting query parameters are a 400 that runs nothing", arguments: refused)
    func refusedQueries(_ testCase: Refused) throws {
        let fixture = try RouterFixture(maxCount: 1, retentionDays: 1)
        try fixture.makeBackup(created: Date(timeIntervalSince1970: 1_779_991_200))
        try fixture.makeBackup(ageHours: 100)
        let before = fixture.names()
        let response = fixture.handle(testCase.method, testCase.uri, json: testCase.body)
        try response.expectError(400, testCase.code, detailContains: testCase.detail)
        #expect(fixture.names() == before)
    }

    @Test("a refused parameter name is quoted with its odd characters as ?, never as the allowed name", arguments: [
        (";dry_run=true", ";dry_run"), ("dry_run%00=true", "dry_run?"), ("dry_run%0A=true", "dry_run?"),
        ("%E2%80%AEdry_run=true", "?dry_run"), ("x;dry_run=true", "x;dry_run"), ("dry+run=true", "dry run"),
        ("%C3%A9t%C3%A9=1", "?t?"), ("\(String(repeating: "a", count: 70))=1", String(repeating: "a", count: 64)),
    ])
    func refusedNameIsShownReplaced(_ query: String, _ shown: String) throws {
        let fixture = try RouterFixture(maxCount: 1, retentionDays: 1)
        try fixture.makeBackup(ageHours: 100)
        try fixture.makeBackup(ageHours: 1)
        let before = fixture.names()
        let response = fixture.handle("POST", "/api/backups/cleanup?\(query)")
        try response.expectError(400, "unknown_query_parameter")
        #expect(try response.jsonBody["detail"] == .string("unknown query parameter '\(shown)'; allowed: dry_run"))
        #expect(fixture.names() == before)
    }

    @Test("an empty query string is no parameter")
    func emptyQuery() throws {
        let fixture = try RouterFixture()
        #expect(fixture.handle("GET", "/api/backups/status?").status == 200)
    }

    @Test("HEAD sends the headers GET would, Content-Length of GET's body included", arguments: [
        "/api/backups", "/api/backups/status", "/api/backups/backup_appdb_20260528_180000.sql.gz", "/api/backups/jobs",
    ])
    func headHeaders(_ uri: String) throws {
        let fixture = try RouterFixture()
        try fixture.makeBackup(created: Date(timeIntervalSince1970: 1_779_991_200))
        let get = fixture.handle("GET", uri)
        let head = fixture.handle("HEAD", uri)
        #expect(head.status == get.status)
        #expect(head.bodyBytes.isEmpty)
        #expect(head.header("Content-Length") == String(get.bodyBytes.count))
        #expect(head.header("Content-Type") == get.header("Content-Type"))
        #expect(head.header("Cache-Control") == "no-store")
    }

    @Test("GET /api/backups/jobs lists recent jobs newest first; job errors speak of jobs")
    func jobsList() throws {
        let fixture = try RouterFixture()
        let empty = fixture.handle("GET", "/api/backups/jobs")
        #expect(empty.status == 200)
        #expect(try empty.jsonBody == .array([]))
        #expect(fixture.names().isEmpty, "reading the list created nothing")

        var ids: [String] = []
        for _ in 0..<3 {
            let started = fixture.handle("POST", "/api/backups", prefer: "respond-async")
            #expect(started.status == 202)
            ids.append(try #require(try started.jsonBody["job"]?["id"]?.stringValue))
            usleep(20_000)
        }
        let list = try fixture.handle("GET", "/api/backups/jobs").jsonBody
        let listed = try #require(items(list)).compactMap { $0["id"]?.stringValue }
        #expect(Set(listed) == Set(ids))
        let created = try #require(items(list)).compactMap { $0["created_at"]?.stringValue }
        #expect(created == created.sorted(by: >), "newest first")

        try fixture.handle("GET", "/api/backups/jobs/\(String(repeating: "0", count: 32))")
            .expectError(404, "not_found", detailContains: "no job with id '\(String(repeating: "0", count: 32))'")
        try fixture.handle("GET", "/api/backups/jobs/nothex").expectError(400, "invalid_input", detailContains: "invalid job id 'nothex'")
    }
}

private func items(_ json: JSON?) -> [JSON]? {
    if case let .array(elements)? = json { elements } else { nil }
}
