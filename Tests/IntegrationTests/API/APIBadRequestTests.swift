import Foundation
import TestSupport
import Testing

/// Hostile and malformed requests through nginx: each gets the right 4xx with the API's JSON error shape
/// (`{success: false, error, detail}`), and none changes a byte in BACKUP_DIR.
@Suite("API through nginx: bad requests", .serialized, .nginxStack)
struct APIBadRequestTests {
    static let name = "backup_appdb_20260101_120000.sql.gz"
    static let hugeJSON = #"{"description": ""# + String(repeating: "a", count: 70 * 1024) + #""}"#

    struct Case: CustomTestStringConvertible, Sendable {
        var label: String
        var method = "GET"
        var path: String
        var body: String?
        var contentType: String? = "application/json"
        var headers: [String] = []
        var status: Int
        var code: String?
        var allow: String?
        var testDescription: String { "\(label): \(method) \(path.prefix(90)) → \(status)" }
    }

    static let cases: [Case] = {
        let n = name
        return [
            // Traversal, in every encoding nginx passes through. Where nginx decodes and normalises the path out
            // of the API it answers 404 itself; what reaches the responder fails the one name check.
            Case(label: "encoded slashes climbing out", path: "/api/backups/..%2f..%2fetc%2fpasswd", status: 404, code: "not_found"),
            Case(label: "encoded slashes climbing above the root", path: "/api/backups/..%2f..%2f..%2f..%2fetc%2fpasswd", status: 400),
            Case(label: "encoded dots climbing out", path: "/api/backups/%2e%2e/%2e%2e/etc/passwd", status: 404, code: "not_found"),
            Case(label: "download of a sidecar via ../", path: "/api/backups/download/..%2f..%2fbackups%2f\(n).json", status: 400, code: "invalid_input"),
            Case(label: "download of the lock via ../", path: "/api/backups/download/%2e%2e%2f.lock", status: 400, code: "invalid_input"),
            Case(label: "download climbing out to the jobs", path: "/api/backups/download/%2e%2e%2f%2e%2e%2f.state.json", status: 404, code: "not_found"),
            Case(label: "double-encoded dots", path: "/api/backups/%252e%252e%252f", status: 400, code: "invalid_input"),
            Case(label: "double-encoded download", path: "/api/backups/download/%252e%252e%252f%252e%252e%252fetc%252fpasswd", status: 400, code: "invalid_input"),
            Case(label: "raw backslashes", path: #"/api/backups/..\..\etc\passwd"#, status: 400, code: "invalid_input"),
            Case(label: "encoded backslashes", path: "/api/backups/download/..%5c..%5c\(n)", status: 400, code: "invalid_input"),
            Case(label: "NUL after the name", path: "/api/backups/\(n)%00", status: 400),
            Case(label: "NUL before .json", method: "DELETE", path: "/api/backups/\(n)%00.json", status: 400),
            Case(label: "CR LF header injection", path: "/api/backups/\(n)%0d%0aX-Injected:%201", status: 400, code: "invalid_input"),
            Case(label: "LF after a download name", path: "/api/backups/download/\(n)%0a", status: 400, code: "invalid_input"),
            Case(label: "overlong UTF-8 dots and slash", path: "/api/backups/%c0%ae%c0%ae%c0%af", status: 400, code: "invalid_input"),
            Case(label: "overlong UTF-8 in a download", path: "/api/backups/download/%c0%ae%c0%ae%2f\(n)", status: 400, code: "invalid_input"),
            Case(label: "three-byte overlong dots", path: "/api/backups/%e0%80%ae%e0%80%ae", status: 400, code: "invalid_input"),
            Case(label: "truncated escape", path: "/api/backups/%", status: 400),
            Case(label: "encoded sidecar name", method: "DELETE", path: "/api/backups/\(n)%2ejson", status: 400, code: "invalid_input"),
            Case(label: "sidecar download", path: "/api/backups/download/\(n).json", status: 400, code: "invalid_input"),
            // Bodies over 64 KiB.
            Case(label: "70 KiB create", method: "POST", path: "/api/backups", body: hugeJSON, status: 413, code: "payload_too_large"),
            Case(label: "70 KiB restore", method: "POST", path: "/api/backups/restore", body: hugeJSON, status: 413, code: "payload_too_large"),
            Case(label: "70 KiB chunked cleanup", method: "POST", path: "/api/backups/cleanup", body: hugeJSON,
                 headers: ["Transfer-Encoding: chunked"], status: 413, code: "payload_too_large"),
            Case(label: "70 KiB verify", method: "POST", path: "/api/backups/\(n)/verify", body: hugeJSON, status: 413, code: "payload_too_large"),
            // Not JSON.
            Case(label: "text/plain", method: "POST", path: "/api/backups", body: #"{"description": "x"}"#, contentType: "text/plain", status: 415, code: "unsupported_media_type"),
            Case(label: "form encoded", method: "POST", path: "/api/backups/restore", body: "backup_filename=\(n)", contentType: "application/x-www-form-urlencoded", status: 415, code: "unsupported_media_type"),
            Case(label: "no content type", method: "POST", path: "/api/backups/cleanup", body: #"{"dry_run": false}"#, contentType: nil, status: 415, code: "unsupported_media_type"),
            Case(label: "XML", method: "POST", path: "/api/backups/\(n)/verify", body: "<verify/>", contentType: "application/xml", status: 415, code: "unsupported_media_type"),
            Case(label: "multipart", method: "POST", path: "/api/backups/restore", body: "--x\r\n\r\n--x--", contentType: "multipart/form-data; boundary=x", status: 415, code: "unsupported_media_type"),
            // Malformed JSON and wrong shapes.
            Case(label: "truncated JSON", method: "POST", path: "/api/backups", body: #"{"description": "#, status: 400, code: "invalid_json"),
            Case(label: "array body", method: "POST", path: "/api/backups/restore", body: #"["\#(n)"]"#, status: 400, code: "invalid_json"),
            Case(label: "duplicate key", method: "POST", path: "/api/backups/cleanup", body: #"{"dry_run": true, "dry_run": false}"#, status: 400, code: "invalid_json"),
            Case(label: "description is a number", method: "POST", path: "/api/backups", body: #"{"description": 42}"#, status: 400, code: "invalid_field_type"),
            Case(label: "dry_run is a string", method: "POST", path: "/api/backups/cleanup", body: #"{"dry_run": "false"}"#, status: 400, code: "invalid_field_type"),
            Case(label: "dry_run is a number", method: "POST", path: "/api/backups/cleanup", body: #"{"dry_run": 0}"#, status: 400, code: "invalid_field_type"),
            Case(label: "backup_filename is an array", method: "POST", path: "/api/backups/restore", body: #"{"backup_filename": ["\#(n)"]}"#, status: 400, code: "invalid_field_type"),
            Case(label: "safety_backup is a string", method: "POST", path: "/api/backups/restore", body: #"{"backup_filename": "\#(n)", "safety_backup": "false"}"#, status: 400, code: "invalid_field_type"),
            Case(label: "backup_filename is a boolean", method: "POST", path: "/api/backups/restore", body: #"{"backup_filename": true}"#, status: 400, code: "invalid_field_type"),
            Case(label: "unknown field on create", method: "POST", path: "/api/backups", body: #"{"description": "x", "database": "postgres"}"#, status: 400, code: "unknown_field"),
            Case(label: "unknown field on cleanup", method: "POST", path: "/api/backups/cleanup", body: #"{"retention_days": 0}"#, status: 400, code: "unknown_field"),
            Case(label: "unknown field on verify", method: "POST", path: "/api/backups/\(n)/verify", body: #"{"repair": true}"#, status: 400, code: "unknown_field"),
            Case(label: "unknown field on restore", method: "POST", path: "/api/backups/restore", body: #"{"backup_filename": "\#(n)", "drop": true}"#, status: 400, code: "unknown_field"),
            Case(label: "restore of a path", method: "POST", path: "/api/backups/restore", body: #"{"backup_filename": "../../../etc/passwd"}"#, status: 400, code: "invalid_input"),
            Case(label: "restore target with SQL", method: "POST", path: "/api/backups/restore", body: #"{"backup_filename": "\#(n)", "target_database": "x; DROP DATABASE y"}"#, status: 400, code: "invalid_input"),
            Case(label: "restore target as an option", method: "POST", path: "/api/backups/restore", body: #"{"backup_filename": "\#(n)", "target_database": "-h/tmp"}"#, status: 400, code: "invalid_input"),
            Case(label: "restore without a name", method: "POST", path: "/api/backups/restore", body: "{}", status: 400, code: "invalid_input"),
            // Wrong methods: 405 naming what is allowed.
            Case(label: "PUT the collection", method: "PUT", path: "/api/backups", body: "{}", status: 405, code: "method_not_allowed", allow: "GET, HEAD, POST"),
            Case(label: "DELETE the collection", method: "DELETE", path: "/api/backups", status: 405, code: "method_not_allowed", allow: "GET, HEAD, POST"),
            Case(label: "GET restore", path: "/api/backups/restore", status: 405, code: "method_not_allowed", allow: "POST"),
            Case(label: "GET cleanup", path: "/api/backups/cleanup", status: 405, code: "method_not_allowed", allow: "POST"),
            Case(label: "POST a backup", method: "POST", path: "/api/backups/\(n)", status: 405, code: "method_not_allowed", allow: "GET, HEAD, DELETE"),
            Case(label: "PATCH a backup", method: "PATCH", path: "/api/backups/\(n)", body: "{}", status: 405, code: "method_not_allowed", allow: "GET, HEAD, DELETE"),
            Case(label: "GET verify", path: "/api/backups/\(n)/verify", status: 405, code: "method_not_allowed", allow: "POST"),
            Case(label: "DELETE a download", method: "DELETE", path: "/api/backups/download/\(n)", status: 405, code: "method_not_allowed", allow: "GET, HEAD"),
            Case(label: "DELETE status", method: "DELETE", path: "/api/backups/status", status: 405, code: "method_not_allowed", allow: "GET, HEAD"),
            Case(label: "TRACE", method: "TRACE", path: "/api/backups", status: 405),
            // Paths that are not the API.
            Case(label: "prefix lookalike", path: "/api/backupsEVIL", status: 404, code: "not_found"),
            Case(label: "prefix lookalike POST", method: "POST", path: "/api/backupsEVIL", body: "{}", status: 404, code: "not_found"),
            Case(label: "empty segment", path: "/api/backups//x", status: 404, code: "not_found"),
            Case(label: "DELETE with an empty segment", method: "DELETE", path: "/api/backups//\(n)", status: 404, code: "not_found"),
            Case(label: "trailing slash", path: "/api/backups/\(n)/", status: 404, code: "not_found"),
            Case(label: "job id climbing out", path: "/api/backups/jobs/..%2f..%2f.state", status: 404, code: "not_found"),
            Case(label: "job id of dots", path: "/api/backups/jobs/%2e%2e", status: 400, code: "invalid_input"),
            Case(label: "job id not hex", path: "/api/backups/jobs/ZZZZ", status: 400, code: "invalid_input"),
            Case(label: "absent backup", method: "DELETE", path: "/api/backups/backup_appdb_20300101_000000.sql.gz", status: 404, code: "not_found"),
        ]
    }()

    let stack: NginxStack

    init() throws {
        stack = try SharedNginxStack.require()
        if !FileManager.default.fileExists(atPath: stack.backupDir.appendingPathComponent(Self.name).path) {
            _ = try BackupFiles.writeOldToolBackup(
                dump: Data("SELECT 1;\n--\n-- PostgreSQL database dump complete\n--\n".utf8), database: "appdb",
                timestamp: "20260101_120000", createdAt: "2026-01-01T12:00:00.000000", description: "target",
                in: stack.backupDir)
            // Any mutating request creates the lock file on first use (it is empty whenever nobody holds it);
            // make it exist before the snapshots, as it does in any directory that has seen an operation.
            let cleanup = try stack.post("/api/backups/cleanup", json: #"{"dry_run": true}"#)
            guard cleanup.status == 200 else { throw HarnessError.setup("dry-run cleanup: \(cleanup)") }
        }
    }

    @Test("bad request gets its 4xx, the JSON error shape, and BACKUP_DIR is unchanged", arguments: cases)
    func badRequest(_ bad: Case) throws {
        let before = try stack.snapshot()
        #expect(before[Self.name] != nil)
        let response = try stack.request(bad.method, bad.path, body: bad.body.map { Data($0.utf8) },
                                         contentType: bad.contentType, headers: bad.headers)
        expectAPIError(response, bad.status, bad.code, allow: bad.allow, bad.label)
        #expect(try stack.snapshot() == before, "\(bad.label) changed BACKUP_DIR")
    }

    @Test("there are at least 40 of them, and the responder is still healthy after them")
    func stillServing() throws {
        #expect(Self.cases.count >= 40)
        let response = try stack.get("/api/backups/\(Self.name)")
        #expect(response.status == 200, "\(response)")
        #expect(try response.object()["filename"] as? String == Self.name)
    }
}
