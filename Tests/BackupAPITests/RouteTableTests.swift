import BackupAPI
import BackupCore
import Foundation
import Testing

@Suite("Route table: method and path to status and Allow")
struct RouteTableTests {
    static let name = "backup_appdb_20260528_180000.sql.gz"
    static let jobID = String(repeating: "ab", count: 16)

    struct Case: CustomTestStringConvertible, Sendable {
        let method: String
        let uri: String
        let status: Int
        let allow: String?
        var testDescription: String { "\(method) \(uri) -> \(status)" }
    }

    /// Every route with every method it refuses; a backup named `name` exists, the job does not.
    static let cases: [Case] = [
        Case(method: "GET", uri: "/api/backups", status: 200, allow: nil),
        Case(method: "GET", uri: "/api/backups?page=2", status: 400, allow: nil),
        Case(method: "GET", uri: "/api/backups/jobs", status: 200, allow: nil),
        Case(method: "HEAD", uri: "/api/backups/jobs", status: 200, allow: nil),
        Case(method: "POST", uri: "/api/backups/jobs", status: 405, allow: "GET, HEAD"),
        Case(method: "PUT", uri: "/api/backups", status: 405, allow: "GET, HEAD, POST"),
        Case(method: "DELETE", uri: "/api/backups", status: 405, allow: "GET, HEAD, POST"),
        Case(method: "PATCH", uri: "/api/backups", status: 405, allow: "GET, HEAD, POST"),
        Case(method: "OPTIONS", uri: "/api/backups", status: 405, allow: "GET, HEAD, POST"),
        Case(method: "GET", uri: "/api/backups/status", status: 200, allow: nil),
        Case(method: "HEAD", uri: "/api/backups/status", status: 200, allow: nil),
        Case(method: "POST", uri: "/api/backups/status", status: 405, allow: "GET, HEAD"),
        Case(method: "DELETE", uri: "/api/backups/status", status: 405, allow: "GET, HEAD"),
        Case(method: "GET", uri: "/api/backups/cleanup", status: 405, allow: "POST"),
        Case(method: "DELETE", uri: "/api/backups/cleanup", status: 405, allow: "POST"),
        Case(method: "GET", uri: "/api/backups/restore", status: 405, allow: "POST"),
        Case(method: "PUT", uri: "/api/backups/restore", status: 405, allow: "POST"),
        Case(method: "GET", uri: "/api/backups/rollback", status: 405, allow: "POST"),
        Case(method: "DELETE", uri: "/api/backups/rollback", status: 405, allow: "POST"),
        Case(method: "GET", uri: "/api/backups/\(name)", status: 200, allow: nil),
        Case(method: "HEAD", uri: "/api/backups/\(name)", status: 200, allow: nil),
        Case(method: "POST", uri: "/api/backups/\(name)", status: 405, allow: "GET, HEAD, DELETE"),
        Case(method: "PUT", uri: "/api/backups/\(name)", status: 405, allow: "GET, HEAD, DELETE"),
        Case(method: "GET", uri: "/api/backups/download/\(name)", status: 200, allow: nil),
        Case(method: "HEAD", uri: "/api/backups/download/\(name)", status: 200, allow: nil),
        Case(method: "POST", uri: "/api/backups/download/\(name)", status: 405, allow: "GET, HEAD"),
        Case(method: "DELETE", uri: "/api/backups/download/\(name)", status: 405, allow: "GET, HEAD"),
        Case(method: "POST", uri: "/api/backups/\(name)/verify", status: 200, allow: nil),
        Case(method: "GET", uri: "/api/backups/\(name)/verify", status: 405, allow: "POST"),
        Case(method: "DELETE", uri: "/api/backups/\(name)/verify", status: 405, allow: "POST"),
        Case(method: "GET", uri: "/api/backups/\(name)/drill", status: 405, allow: "POST"),
        Case(method: "DELETE", uri: "/api/backups/\(name)/drill", status: 405, allow: "POST"),
        Case(method: "GET", uri: "/api/backups/jobs/\(jobID)", status: 404, allow: nil),
        Case(method: "DELETE", uri: "/api/backups/jobs/\(jobID)", status: 405, allow: "GET, HEAD"),
        Case(method: "POST", uri: "/api/backups/jobs/\(jobID)", status: 405, allow: "GET, HEAD"),
        // Off-site copies: POST only; without BACKUP_REMOTE a clear 400.
        Case(method: "POST", uri: "/api/backups/push", status: 400, allow: nil),
        Case(method: "GET", uri: "/api/backups/push", status: 405, allow: "POST"),
        Case(method: "POST", uri: "/api/backups/sync", status: 400, allow: nil),
        Case(method: "DELETE", uri: "/api/backups/sync", status: 405, allow: "POST"),
        // No such path: 404 whatever the method.
        Case(method: "GET", uri: "/api/backupsEVIL", status: 404, allow: nil),
        Case(method: "POST", uri: "/api/backupsEVIL", status: 404, allow: nil),
        Case(method: "GET", uri: "/api/backups/", status: 404, allow: nil),
        Case(method: "GET", uri: "/api/backups//x", status: 404, allow: nil),
        Case(method: "GET", uri: "/api/backups//\(name)", status: 404, allow: nil),
        Case(method: "GET", uri: "/api/backups/\(name)/", status: 404, allow: nil),
        Case(method: "GET", uri: "/api/backups/\(name)/x", status: 404, allow: nil),
        Case(method: "GET", uri: "/api/backups/a/b/c", status: 404, allow: nil),
        Case(method: "GET", uri: "/api/backups/download/\(name)/x", status: 404, allow: nil),
        Case(method: "GET", uri: "/api", status: 404, allow: nil),
        Case(method: "GET", uri: "/", status: 404, allow: nil),
        Case(method: "GET", uri: "/API/BACKUPS", status: 404, allow: nil),
        Case(method: "GET", uri: "api/backups", status: 404, allow: nil),
    ]

    @Test("each (method, path) gets its status, 405s name what is allowed", arguments: cases)
    func route(_ testCase: Case) throws {
        let fixture = try RouterFixture()
        try fixture.makeBackup(created: Date(timeIntervalSince1970: 1_779_991_200))  // 2026-05-28 18:00:00 UTC
        #expect(fixture.names() == [Self.name, Self.name + ".json"])

        let response = fixture.handle(testCase.method, testCase.uri)
        #expect(response.status == testCase.status)
        #expect(response.header("Allow") == testCase.allow)
        switch testCase.status {
        case 405:
            try response.expectError(405, "method_not_allowed", detailContains: testCase.method)
        case 404:
            try response.expectError(404, "not_found")
        default:
            if testCase.method == "HEAD" {
                #expect(response.bodyBytes.isEmpty, "HEAD carries no body")
            }
        }
    }

    @Test("HEAD is answered wherever GET is, the collection included")
    func headOnCollection() throws {
        let fixture = try RouterFixture()
        let response = fixture.handle("HEAD", "/api/backups")
        // Every other GET route allows HEAD; RFC 9110 §9.3.2 expects HEAD wherever GET is served.
        #expect(response.status == 200, "HEAD /api/backups got \(response.status), Allow: \(response.header("Allow") ?? "-")")
    }

    @Test("a 405 is decided before the body is looked at, even an oversized one")
    func methodBeforeBody() throws {
        let fixture = try RouterFixture()
        let response = fixture.handle(APIRequest(method: "PUT", uri: "/api/backups/cleanup", body: nil))
        try response.expectError(405, "method_not_allowed")
        #expect(response.header("Allow") == "POST")
    }

    @Test("a 404 path is decided before the method")
    func pathBeforeMethod() throws {
        let fixture = try RouterFixture()
        try fixture.handle("BREW", "/api/backups/nothing/here/at/all").expectError(404, "not_found")
        #expect(fixture.handle("BREW", "/api/backups/nothing/here/at/all").header("Allow") == nil)
    }
}
