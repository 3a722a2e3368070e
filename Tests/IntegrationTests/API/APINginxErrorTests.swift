import Foundation
import Testing

/// Every answer under /api/backups is the JSON error shape, nginx's own refusals included (issue 18): URI too long,
/// header too large (also when the client offers HTTP/2), plain HTTP on the TLS port, TRACE (with Allow), 413, and
/// 502 with the responder stopped.
@Suite("API through nginx: nginx's own errors are JSON", .serialized)
final class APINginxErrorTests {
    let stack: NginxStack

    init() throws { stack = try NginxStack() }
    deinit { stack.stop() }

    func fetch(_ path: String, _ arguments: [String], scheme: String = "https",
               credentials: NginxStack.Credentials = .valid) throws -> HTTPResponse {
        let body = stack.scratch.appending("body-\(UUID().uuidString)")
        let result = try RawCurl.run(stack, ["-D", "-", "-o", body.path] + arguments, path: path,
                                     credentials: credentials, scheme: scheme)
        #expect(result.status == 0, "curl must get an answer, not a dropped connection: \(result)")
        return try RawCurl.response(result, body: body)
    }

    static let long = String(repeating: "a", count: 20_000)

    @Test("URI too long: 414 JSON")
    func uriTooLong() throws {
        expectAPIError(try fetch("/api/backups/\(Self.long)", []), 414, "uri_too_long", "20 kB URI")
    }

    @Test("header too large: 400 JSON over HTTP/1.1, and with --http2 too (no dropped connection)",
          arguments: [["--http1.1"], ["--http2"]])
    func headerTooLarge(_ version: [String]) throws {
        let response = try fetch("/api/backups/status", version + ["-H", "X-Big: \(Self.long)"])
        expectAPIError(response, 400, "header_too_large", "20 kB header \(version)")
    }

    @Test("plain HTTP on the TLS port: 400 JSON")
    func plainHTTP() throws {
        expectAPIError(try fetch("/api/backups/status", [], scheme: "http"), 400, "plain_http_on_tls_port", "http://")
    }

    @Test("TRACE: 405 JSON with Allow")
    func trace() throws {
        let response = try fetch("/api/backups/status", ["-X", "TRACE"])
        expectAPIError(response, 405, "method_not_allowed", "TRACE")
        #expect(response.header("Allow") == "GET, HEAD, POST, DELETE", "\(response)")
    }

    @Test("the responder's own 405 carries Allow too")
    func responder405() throws {
        let response = try fetch("/api/backups/status", ["-X", "PUT"])
        expectAPIError(response, 405, "method_not_allowed", "PUT status")
        #expect(response.header("Allow") == "GET, HEAD", "\(response)")
    }

    @Test("401 keeps WWW-Authenticate, 413 over 64 KiB, both JSON")
    func unauthorizedAndTooLarge() throws {
        let unauthorized = try fetch("/api/backups/status", [], credentials: .none)
        expectAPIError(unauthorized, 401, "unauthorized", "no credentials")
        #expect(unauthorized.header("WWW-Authenticate") == #"Basic realm="pgbackup""#)
        let big = stack.scratch.appending("big.json")
        try Data(repeating: 0x20, count: 70_000).write(to: big)
        let tooLarge = try fetch("/api/backups", ["-X", "POST", "-H", "Content-Type: application/json", "--data-binary", "@" + big.path])
        expectAPIError(tooLarge, 413, "payload_too_large", "70 kB body")
    }

    @Test("responder stopped: 502 JSON on list, status and download")
    func responderDown() throws {
        stack.stopResponder()
        defer { try? stack.startResponder() }
        for path in ["/api/backups", "/api/backups/status", "/api/backups/download/backup_appdb_20260101_120000.sql.gz"] {
            expectAPIError(try fetch(path, []), 502, "responder_unavailable", "\(path) with the responder stopped")
        }
    }
}
