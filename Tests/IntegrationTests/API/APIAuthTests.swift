import Foundation
import TestSupport
import Testing

/// What nginx guarantees in front of the responder: HTTP basic auth on every API path and method, TLS 1.2+
/// only, and an application that learns who was authenticated but never the credentials or a client's claim.
@Suite("API through nginx: authentication, forwarded identity, TLS", .serialized)
final class APIAuthTests {
    static let name = "backup_appdb_20260101_120000.sql.gz"
    static let jobID = String(repeating: "0", count: 32)

    /// Every route with every method it serves, plus some it does not and bogus paths under the API.
    static let requests: [(method: String, path: String)] = [
        ("GET", "/api/backups"), ("POST", "/api/backups"), ("PUT", "/api/backups"), ("DELETE", "/api/backups"),
        ("HEAD", "/api/backups"),
        ("GET", "/api/backups/status"), ("HEAD", "/api/backups/status"), ("POST", "/api/backups/status"),
        ("POST", "/api/backups/cleanup"), ("GET", "/api/backups/cleanup"),
        ("POST", "/api/backups/restore"), ("PATCH", "/api/backups/restore"),
        ("GET", "/api/backups/\(name)"), ("HEAD", "/api/backups/\(name)"), ("DELETE", "/api/backups/\(name)"),
        ("GET", "/api/backups/download/\(name)"), ("HEAD", "/api/backups/download/\(name)"),
        ("POST", "/api/backups/\(name)/verify"),
        ("GET", "/api/backups/jobs/\(jobID)"),
        ("OPTIONS", "/api/backups"), ("GET", "/api/backups/"), ("GET", "/api/backups/x%2f..%2fstatus"),
        ("GET", "/api/backups/nothing/here"), ("POST", "/api/backups?x=1"),
    ]

    let stack: NginxStack

    init() throws { stack = try NginxStack() }
    deinit { stack.stop() }

    /// An old-tool backup, so that DELETE/GET of `name` would have something to act on if auth let them through.
    func placeBackup() throws {
        _ = try BackupFiles.writeOldToolBackup(
            dump: Data("SELECT 1;\n--\n-- PostgreSQL database dump complete\n--\n".utf8), database: "appdb",
            timestamp: "20260101_120000", createdAt: "2026-01-01T12:00:00.000000", description: "old tool",
            in: stack.backupDir)
    }

    @Test("no credentials, a wrong password or an unknown user: 401 with the JSON error shape on every path and method")
    func unauthorized() throws {
        try placeBackup()
        let before = try stack.snapshot()
        let wrong: [(String, NginxStack.Credentials)] = [
            ("no credentials", .none),
            ("wrong password", .custom(user: stack.user, password: stack.password + "x")),
            ("unknown user", .custom(user: "root", password: stack.password)),
            ("empty password", .custom(user: stack.user, password: "")),
        ]
        for (what, credentials) in wrong {
            for (method, path) in Self.requests {
                let body = method == "POST" ? Data(#"{"dry_run": false, "backup_filename": "\#(Self.name)"}"#.utf8) : nil
                let response = try stack.request(method, path, body: body, credentials: credentials)
                let label = "\(what): \(method) \(path)"
                #expect(response.status == 401, "\(label) → \(response)")
                #expect(response.header("WWW-Authenticate") == #"Basic realm="pgbackup""#, "\(label)")
                if method != "HEAD" {
                    expectAPIError(response, 401, "unauthorized", label)
                }
            }
        }
        #expect(try stack.snapshot() == before, "an unauthenticated request changed BACKUP_DIR")
        // Nothing reached the responder: it logs every mutating request it answers.
        let log = stack.stopResponder()?.err ?? ""
        #expect(!log.contains("api request"), "the responder saw unauthenticated requests:\n\(log)")
    }

    @Test("the right credentials pass (the control for the test above)")
    func authorized() throws {
        try placeBackup()
        #expect(try stack.get("/api/backups/status").status == 200)
        #expect(try stack.get("/api/backups/\(Self.name)").status == 200)
        #expect(try stack.request("HEAD", "/api/backups").status != 401)
    }

    @Test("a client's Remote-User header is not trusted: the job and the log carry the authenticated user")
    func remoteUserHeaderIgnored() throws {
        let spoof = ["Remote-User: mallory", "X-Remote-User: mallory", "REMOTE_USER: mallory"]
        let accepted = try stack.request("POST", "/api/backups", body: Data(#"{"description": "who am i"}"#.utf8),
                                         headers: spoof + ["Prefer: respond-async"])
        #expect(accepted.status == 202, "\(accepted)")
        let job = try #require(try accepted.object()["job"] as? [String: Any])
        #expect(job["user"] as? String == stack.user)
        let location = try #require(accepted.header("Location"))
        #expect(try stack.get(location).object()["user"] as? String == stack.user)

        // The job fails (this stack has no database); it only has to be over before the next mutating request.
        _ = try stack.waitForJob(location, timeout: 30)
        let cleanup = try stack.request("POST", "/api/backups/cleanup", headers: spoof)
        #expect(cleanup.status == 200, "\(cleanup)")
        let log = stack.stopResponder()?.err ?? ""
        let requestLines = log.split(separator: "\n").filter { $0.contains("api request") }
        #expect(requestLines.count == 2, "log:\n\(log)")
        for line in requestLines {
            #expect(line.contains("user=\(stack.user)"), "\(line)")
        }
        #expect(!log.contains("mallory"), "log:\n\(log)")
    }

    @Test("TLS 1.1 and older are refused by the server; TLS 1.2 and 1.3 are served")
    func tlsVersions() throws {
        let curl = try ProcessRunner.tool("curl")
        let url = stack.baseURL + "/api/backups/status"
        let config = Data("user = \"\(stack.user):\(stack.password)\"\n".utf8)
        // curl's own OpenSSL would refuse TLS 1.1 at its default security level; lower it so that a refusal
        // can only come from the server.
        for version in ["1.0", "1.1"] {
            let old = try ProcessRunner.run(curl, ["-sS", "-k", "-K", "-", "--tlsv\(version)", "--tls-max", version,
                                                   "--ciphers", "DEFAULT:@SECLEVEL=0", "-o", "/dev/null", url], stdin: config)
            #expect(old.status == 35, "TLS \(version) was not refused: \(old)")
        }
        let plain = try ProcessRunner.run(curl, ["-sS", "-k", "-K", "-", "--tls-max", "1.1", "-o", "/dev/null", url], stdin: config)
        #expect(plain.status != 0, "curl --tls-max 1.1 succeeded: \(plain)")
        let handshake = try ProcessRunner.run(
            try ProcessRunner.tool("openssl"),
            ["s_client", "-connect", "127.0.0.1:\(stack.port)", "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"],
            stdin: Data(), timeout: .seconds(30))
        #expect(handshake.combined.contains("alert protocol version"), "the server did not refuse TLS 1.1: \(handshake)")

        for version in ["1.2", "1.3"] {
            let modern = try ProcessRunner.run(curl, ["-sS", "-k", "-K", "-", "--tlsv\(version)", "--tls-max", version,
                                                      "-o", "/dev/null", "-w", "%{http_code}", url], stdin: config)
            #expect(modern.status == 0 && modern.out == "200", "TLS \(version): \(modern)")
        }
    }
}

/// With the test-only echo responder behind the very same nginx configuration, what the application receives
/// can be seen directly.
@Suite("API through nginx: FastCGI params the application receives", .serialized)
final class APIForwardedParamsTests {
    let stack: NginxStack

    init() throws { stack = try NginxStack(program: .echo) }
    deinit { stack.stop() }

    @Test("Authorization is blanked, REMOTE_USER is the authenticated user, Remote-User stays a plain header",
          arguments: ["/api/backups", "/api/backups/anything"])
    func params(_ path: String) throws {
        let response = try stack.request("GET", path, headers: ["Remote-User: mallory"])
        #expect(response.status == 200, "\(response)")
        let echo = try response.object()
        #expect(echo["remote_user"] as? String == stack.user)
        let authorization = echo["http_authorization"] as? String
        #expect(authorization == nil || authorization == "", "the credentials reached the application: \(authorization ?? "")")
        #expect(echo["http_remote_user"] as? String == "mallory", "the header arrives only as HTTP_REMOTE_USER")
        #expect(echo["request_uri"] as? String == path)
    }
}
