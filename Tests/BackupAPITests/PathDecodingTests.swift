import BackupAPI
import BackupCore
import Foundation
import Testing

/// The router splits the raw REQUEST_URI on `/` and percent-decodes each segment exactly once, so an encoded
/// slash stays inside its segment (and fails the name check) and `%25` never turns into a second round of escapes.
@Suite("Percent-decoding of path segments")
struct PathDecodingTests {
    static let name = "backup_appdb_20260528_180000.sql.gz"

    func fixtureWithBackup() throws -> RouterFixture {
        let fixture = try RouterFixture()
        try fixture.makeBackup(created: Date(timeIntervalSince1970: 1_779_991_200))
        return fixture
    }

    @Test("an encoded valid name is decoded once and found")
    func encodedNameFound() throws {
        let fixture = try fixtureWithBackup()
        let encoded = "backup%5Fappdb%5F20260528%5F180000%2Esql%2egz"
        let response = fixture.handle("GET", "/api/backups/\(encoded)")
        #expect(response.status == 200)
        #expect(try response.jsonBody["filename"] == .string(Self.name))
        let download = fixture.handle("GET", "/api/backups/download/\(encoded)")
        #expect(download.status == 200)
    }

    struct Rejected: CustomTestStringConvertible, Sendable {
        let segment: String
        /// What the detail shows of the decoded segment, when the name checker saw it.
        let shown: String?
        var testDescription: String { segment }
    }

    /// Each decodes (once) to a segment the name validator refuses, or is not valid percent-encoded UTF-8.
    static let rejected: [Rejected] = [
        Rejected(segment: "..", shown: ".."),
        Rejected(segment: "%2e%2e", shown: ".."),
        Rejected(segment: "%2E%2E", shown: ".."),
        Rejected(segment: "..%2f..%2fetc%2fpasswd", shown: "../../etc/passwd"),
        Rejected(segment: "..%2F\(name)", shown: "../\(name)"),
        Rejected(segment: "\(name)%2F..%2F..", shown: "\(name)/../.."),
        Rejected(segment: "%2Fetc%2Fpasswd", shown: "/etc/passwd"),
        // %25 decodes to a literal '%': the result is never decoded a second time.
        Rejected(segment: "%252e%252e%252f", shown: "%2e%2e%2f"),
        Rejected(segment: "backup%255Fappdb%255F20260528%255F180000.sql.gz", shown: "backup%5Fappdb%5F20260528%5F180000.sql.gz"),
        Rejected(segment: "..%5c..%5cwindows", shown: "..\\..\\windows"),
        Rejected(segment: "..\\..\\x", shown: "..\\..\\x"),
        Rejected(segment: "\(name)%00", shown: "\(name)?"),
        Rejected(segment: "\(name)%0d%0aX-Evil:%201", shown: "\(name)??X-Evil: 1"),
        Rejected(segment: "backup_appdb_20260528_180000.sql.gz.json", shown: "\(name).json"),
        Rejected(segment: "backup_%2E%2E_20260528_180000.sql.gz", shown: "backup_.._20260528_180000.sql.gz"),
        Rejected(segment: "%e2%80%ae\(name)", shown: "?\(name)"),
        // Not valid percent-encoding or not valid UTF-8 once decoded: the path itself is malformed.
        Rejected(segment: "%c0%ae%c0%ae", shown: nil),
        Rejected(segment: "%c0%af", shown: nil),
        Rejected(segment: "%e0%80%ae", shown: nil),
        Rejected(segment: "%ff", shown: nil),
        Rejected(segment: "%zz", shown: nil),
        Rejected(segment: "abc%2", shown: nil),
        Rejected(segment: "%", shown: nil),
    ]

    @Test("a segment that decodes to a bad name is a 400 naming what was decoded, and nothing is touched",
          arguments: rejected)
    func rejectedSegment(_ rejected: Rejected) throws {
        let fixture = try fixtureWithBackup()
        let before = fixture.names()
        for (method, uri) in [("GET", "/api/backups/\(rejected.segment)"),
                              ("GET", "/api/backups/download/\(rejected.segment)"),
                              ("POST", "/api/backups/\(rejected.segment)/verify"),
                              ("DELETE", "/api/backups/\(rejected.segment)")] {
            let response = fixture.handle(method, uri)
            if let shown = rejected.shown {
                try response.expectError(400, "invalid_input", detailContains: "invalid backup name '\(shown)'")
            } else {
                try response.expectError(400, "invalid_input", detailContains: "percent-encoded UTF-8")
            }
        }
        #expect(fixture.names() == before)
    }

    @Test("an encoded slash in the first segment never makes a route: download%2F<name> is a backup name")
    func encodedSlashIsNotASeparator() throws {
        let fixture = try fixtureWithBackup()
        try fixture.handle("GET", "/api/backups/download%2F\(Self.name)")
            .expectError(400, "invalid_input", detailContains: "download/\(Self.name)")
        try fixture.handle("GET", "/api/backups/status%2F").expectError(400, "invalid_input")
        // The literal segment "status" only matches undecoded-equal text after one decode.
        #expect(fixture.handle("GET", "/api/backups/st%61tus").status == 200)
    }

    @Test("the query string is not part of the path; an unknown parameter is refused, never read as a path")
    func queryNotPartOfPath() throws {
        let fixture = try fixtureWithBackup()
        let response = fixture.handle("GET", "/api/backups/\(Self.name)?download=../../etc/passwd")
        try response.expectError(400, "unknown_query_parameter", detailContains: "'download'")
        #expect(fixture.handle("GET", "/api/backups/\(Self.name)?").status == 200)
        #expect(try fixture.handle("GET", "/api/backups/\(Self.name)?").jsonBody["filename"] == .string(Self.name))
    }

    @Test("job ids are checked before any file is read", arguments: [
        "..%2f..%2f.state", "ABABABABABABABABABABABABABABABAB", "abab", String(repeating: "a", count: 33), "%2e%2e",
    ])
    func badJobID(_ id: String) throws {
        let fixture = try fixtureWithBackup()
        try fixture.handle("GET", "/api/backups/jobs/\(id)").expectError(400, "invalid_input", detailContains: "invalid job id")
    }
}
