import BackupAPI
import BackupCore
import Foundation
import Testing

/// Bodies are checked before anything runs: content type, size, JSON syntax, shape, field names and types.
/// None of these requests may reach pg_dump or psql (the fixture's database does not exist), and none may
/// change BACKUP_DIR.
@Suite("Request bodies")
struct RequestBodyTests {
    static let name = "backup_appdb_20260528_180000.sql.gz"

    func fixture() throws -> RouterFixture {
        let fixture = try RouterFixture()
        try fixture.makeBackup(created: Date(timeIntervalSince1970: 1_779_991_200))
        return fixture
    }

    struct BadBody: CustomTestStringConvertible, Sendable {
        var method = "POST"
        let uri: String
        let body: String
        var contentType = "application/json"
        let status: Int
        let code: String
        let detail: String
        var testDescription: String { "\(method) \(uri) \(contentType) \(body.prefix(40))" }
    }

    static let badBodies: [BadBody] = [
        // Malformed JSON.
        BadBody(uri: "/api/backups", body: #"{"description": "x""#, status: 400, code: "invalid_json", detail: "not valid JSON"),
        BadBody(uri: "/api/backups", body: "{description: 'x'}", status: 400, code: "invalid_json", detail: "not valid JSON"),
        BadBody(uri: "/api/backups", body: #"{"description": "x"} trailing"#, status: 400, code: "invalid_json", detail: "not valid JSON"),
        BadBody(uri: "/api/backups", body: #"{"description": "a", "description": "b"}"#, status: 400, code: "invalid_json", detail: "not valid JSON"),
        BadBody(uri: "/api/backups/cleanup", body: "{", status: 400, code: "invalid_json", detail: "not valid JSON"),
        BadBody(uri: "/api/backups/restore", body: "\u{FEFF}{}", status: 400, code: "invalid_json", detail: "not valid JSON"),
        BadBody(uri: "/api/backups/restore", body: #"{"backup_filename": "\ud800"}"#, status: 400, code: "invalid_json", detail: "not valid JSON"),
        // Valid JSON that is not an object.
        BadBody(uri: "/api/backups", body: "[]", status: 400, code: "invalid_json", detail: "must be a JSON object"),
        BadBody(uri: "/api/backups", body: #""Manual backup""#, status: 400, code: "invalid_json", detail: "must be a JSON object"),
        BadBody(uri: "/api/backups/cleanup", body: "null", status: 400, code: "invalid_json", detail: "must be a JSON object"),
        BadBody(uri: "/api/backups/cleanup", body: "true", status: 400, code: "invalid_json", detail: "must be a JSON object"),
        BadBody(uri: "/api/backups/restore", body: "42", status: 400, code: "invalid_json", detail: "must be a JSON object"),
        // Unknown fields.
        BadBody(uri: "/api/backups", body: #"{"descripton": "typo"}"#, status: 400, code: "unknown_field", detail: "unknown field 'descripton'; allowed: description"),
        BadBody(uri: "/api/backups/cleanup", body: #"{"dryrun": true}"#, status: 400, code: "unknown_field", detail: "allowed: dry_run"),
        BadBody(uri: "/api/backups/restore", body: #"{"backup_filename": "\#(name)", "force": true}"#, status: 400, code: "unknown_field", detail: "unknown field 'force'"),
        BadBody(uri: "/api/backups/restore", body: #"{"backup_filename": "\#(name)", "mode": "fast"}"#, status: 400, code: "invalid_input", detail: "mode must be \"transaction\" (the default) or \"swap\", not 'fast'"),
        BadBody(uri: "/api/backups/rollback", body: #"{"database": "x"}"#, status: 400, code: "unknown_field", detail: "allowed: target_database, terminate_connections"),
        BadBody(uri: "/api/backups/\(name)/verify", body: #"{"deep": true}"#, status: 400, code: "unknown_field", detail: "this request takes no fields"),
        // DELETE takes no fields: a misplaced dry_run is refused, never a real delete.
        BadBody(method: "DELETE", uri: "/api/backups/\(name)", body: #"{"dry_run": true}"#, status: 400, code: "unknown_field",
                detail: "unknown field 'dry_run'; this request takes no fields"),
        BadBody(method: "DELETE", uri: "/api/backups/\(name)", body: "[]", status: 400, code: "invalid_json", detail: "the body must be a JSON object"),
        BadBody(method: "DELETE", uri: "/api/backups/\(name)", body: "{", status: 400, code: "invalid_json", detail: "not valid JSON"),
        // Wrong types: string vs bool vs number vs array/object.
        BadBody(uri: "/api/backups", body: #"{"description": true}"#, status: 400, code: "invalid_field_type", detail: "field 'description' must be a string, not boolean"),
        BadBody(uri: "/api/backups", body: #"{"description": 7}"#, status: 400, code: "invalid_field_type", detail: "must be a string, not number"),
        BadBody(uri: "/api/backups", body: #"{"description": ["a"]}"#, status: 400, code: "invalid_field_type", detail: "not array"),
        BadBody(uri: "/api/backups", body: #"{"description": {"text": "a"}}"#, status: 400, code: "invalid_field_type", detail: "not object"),
        BadBody(uri: "/api/backups/cleanup", body: #"{"dry_run": "true"}"#, status: 400, code: "invalid_field_type", detail: "field 'dry_run' must be a boolean, not string"),
        BadBody(uri: "/api/backups/cleanup", body: #"{"dry_run": 1}"#, status: 400, code: "invalid_field_type", detail: "must be a boolean, not number"),
        BadBody(uri: "/api/backups/cleanup", body: #"{"dry_run": 0}"#, status: 400, code: "invalid_field_type", detail: "must be a boolean, not number"),
        BadBody(uri: "/api/backups/restore", body: #"{"backup_filename": 20260528}"#, status: 400, code: "invalid_field_type", detail: "field 'backup_filename' must be a string"),
        BadBody(uri: "/api/backups/restore", body: #"{"backup_filename": "\#(name)", "safety_backup": "no"}"#, status: 400, code: "invalid_field_type", detail: "field 'safety_backup' must be a boolean"),
        BadBody(uri: "/api/backups/restore", body: #"{"backup_filename": "\#(name)", "target_database": false}"#, status: 400, code: "invalid_field_type", detail: "field 'target_database' must be a string"),
        // Missing or bad values.
        BadBody(uri: "/api/backups/restore", body: "{}", status: 400, code: "invalid_input", detail: "backup_filename is required"),
        BadBody(uri: "/api/backups/restore", body: #"{"backup_filename": null}"#, status: 400, code: "invalid_input", detail: "backup_filename is required"),
        BadBody(uri: "/api/backups/restore", body: #"{"backup_filename": "../../etc/passwd"}"#, status: 400, code: "invalid_input", detail: "invalid backup name"),
        BadBody(uri: "/api/backups/restore", body: #"{"backup_filename": "\#(name)\u0000"}"#, status: 400, code: "invalid_input", detail: "invalid backup name"),
        BadBody(uri: "/api/backups/restore", body: #"{"backup_filename": "\#(name)", "target_database": ""}"#, status: 400, code: "invalid_input", detail: "invalid target database"),
        BadBody(uri: "/api/backups", body: #"{"description": "line\nbreak"}"#, status: 400, code: "invalid_input", detail: "control characters"),
        BadBody(uri: "/api/backups", body: #"{"description": "\#(String(repeating: "é", count: 501))"}"#, status: 400, code: "invalid_input", detail: "too long"),
        // Not JSON at all.
        BadBody(uri: "/api/backups", body: "description=x", contentType: "application/x-www-form-urlencoded", status: 415, code: "unsupported_media_type", detail: "application/json"),
        BadBody(uri: "/api/backups", body: "{}", contentType: "text/plain", status: 415, code: "unsupported_media_type", detail: "application/json"),
        BadBody(uri: "/api/backups/cleanup", body: "{}", contentType: "application/jsonx", status: 415, code: "unsupported_media_type", detail: "application/json"),
        BadBody(uri: "/api/backups/restore", body: "{}", contentType: "multipart/form-data; boundary=x", status: 415, code: "unsupported_media_type", detail: "application/json"),
        BadBody(uri: "/api/backups/restore", body: "{}", contentType: "", status: 415, code: "unsupported_media_type", detail: "application/json"),
        BadBody(method: "DELETE", uri: "/api/backups/\(name)", body: "this is not json", contentType: "text/plain", status: 415,
                code: "unsupported_media_type", detail: "send the body as Content-Type: application/json"),
        BadBody(method: "DELETE", uri: "/api/backups/\(name)", body: #"{"dry_run": true}"#, contentType: "text/plain", status: 415,
                code: "unsupported_media_type", detail: "send the body as Content-Type: application/json"),
    ]

    @Test("a bad body gets its 4xx and the API error shape; BACKUP_DIR is unchanged", arguments: badBodies)
    func badBody(_ bad: BadBody) throws {
        let fixture = try fixture()
        let before = fixture.names()
        let response = fixture.handle(APIRequest(method: bad.method, uri: bad.uri, contentType: bad.contentType,
                                                        body: Array(bad.body.utf8), remoteUser: "alice"))
        try response.expectError(bad.status, bad.code, detailContains: bad.detail)
        #expect(fixture.names() == before)
    }

    @Test("a body with no Content-Type is refused with 415")
    func missingContentType() throws {
        let fixture = try fixture()
        let response = fixture.handle(APIRequest(method: "POST", uri: "/api/backups/cleanup", contentType: nil,
                                                        body: Array("{}".utf8)))
        try response.expectError(415, "unsupported_media_type")
    }

    @Test("an oversized body (nil from the responder) is a 413 on every POST route",
          arguments: ["/api/backups", "/api/backups/cleanup", "/api/backups/restore", "/api/backups/\(name)/verify"])
    func oversized(_ uri: String) throws {
        let fixture = try fixture()
        let before = fixture.names()
        let response = fixture.handle(APIRequest(method: "POST", uri: uri, contentType: "application/json", body: nil))
        try response.expectError(413, "payload_too_large", detailContains: "64 KiB")
        #expect(fixture.names() == before)
    }

    @Test("an oversized DELETE body is a 413 and deletes nothing")
    func oversizedDelete() throws {
        let fixture = try fixture()
        let before = fixture.names()
        let response = fixture.handle(APIRequest(method: "DELETE", uri: "/api/backups/\(Self.name)",
                                                 contentType: "application/json", body: nil))
        try response.expectError(413, "payload_too_large", detailContains: "64 KiB")
        #expect(fixture.names() == before)
    }

    @Test("DELETE with no body, a blank one or {} deletes", arguments: [nil, "", " \r\n", "{}"] as [String?])
    func deleteWithEmptyBody(_ body: String?) throws {
        let fixture = try fixture()
        let response = fixture.handle(APIRequest(method: "DELETE", uri: "/api/backups/\(Self.name)",
                                                 contentType: body == nil ? nil : "application/json",
                                                 body: Array((body ?? "").utf8)))
        #expect(response.status == 200)
        #expect(try response.jsonBody["success"] == .bool(true))
        #expect(fixture.names().isEmpty)
    }

    @Test("the media type is matched without case or parameters")
    func mediaTypeParameters() throws {
        let fixture = try fixture()
        for type in ["application/json; charset=utf-8", "Application/JSON", " application/json ;charset=UTF-8"] {
            let response = fixture.handle(APIRequest(method: "POST", uri: "/api/backups/cleanup", contentType: type,
                                                            body: Array(#"{"dry_run": true}"#.utf8)))
            #expect(response.status == 200, "\(type)")
            #expect(try response.jsonBody["dry_run"] == .bool(true))
        }
    }

    @Test("an empty or whitespace body is fine for cleanup, whatever the content type",
          arguments: ["", " ", "\r\n\t "])
    func emptyCleanup(_ body: String) throws {
        let fixture = try fixture()
        for type in [nil, "text/plain", "application/json"] {
            let response = fixture.handle(APIRequest(method: "POST", uri: "/api/backups/cleanup", contentType: type,
                                                            body: Array(body.utf8)))
            #expect(response.status == 200)
            let json = try response.jsonBody
            #expect(json["success"] == .bool(true))
            #expect(json["dry_run"] == .bool(false))
        }
    }

    @Test("an empty body is fine for create: the description defaults to Manual backup")
    func emptyCreate() throws {
        let fixture = try fixture()
        for body in ["", "{}", #"{"description": null}"#] {
            let response = fixture.handle("POST", "/api/backups", json: body, prefer: "respond-async")
            #expect(response.status == 202, "body \(body)")
            #expect(try response.jsonBody["job"]?["request"]?["description"] == .string("Manual backup"))
        }
    }

    @Test("null stands for an absent optional field")
    func nullFields() throws {
        let fixture = try fixture()
        let cleanup = fixture.handle("POST", "/api/backups/cleanup", json: #"{"dry_run": null}"#)
        #expect(cleanup.status == 200)
        #expect(try cleanup.jsonBody["dry_run"] == .bool(false))
        let restore = fixture.handle("POST", "/api/backups/restore",
                                     json: #"{"backup_filename": "\#(Self.name)", "target_database": null, "safety_backup": null}"#,
                                     prefer: "respond-async")
        #expect(restore.status == 202)
        let request = try restore.jsonBody["job"]?["request"]
        #expect(request?["target_database"] == .null)
        #expect(request?["safety_backup"] == .bool(true))
    }

    @Test("a restore of a well-formed name that does not exist is 404 before any database work")
    func restoreUnknown() throws {
        let fixture = try fixture()
        try fixture.handle("POST", "/api/backups/restore", json: #"{"backup_filename": "backup_appdb_20200101_000000.sql.gz"}"#)
            .expectError(404, "not_found", detailContains: "backup_appdb_20200101_000000.sql.gz")
    }

    @Test("an async create validates its description before answering 202", arguments: ["newline", "1001 bytes"])
    func asyncCreateValidates(_ problem: String) throws {
        let fixture = try fixture()
        let body = problem == "newline" ? #"{"description": "line\nbreak"}"#
            : #"{"description": "\#(String(repeating: "x", count: 1001))"}"#
        // The synchronous path answers 400 (see badBody); the async path must not accept the same request
        // and only fail later inside the job.
        try fixture.handle("POST", "/api/backups", json: body, prefer: "respond-async").expectError(400, "invalid_input")
        #expect(!FileManager.default.fileExists(atPath: fixture.path(".jobs")) || fixture.jobFiles().isEmpty)
    }
}

extension RouterFixture {
    func jobFiles() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path(".jobs"))) ?? []).filter { $0.hasSuffix(".json") }
    }
}
