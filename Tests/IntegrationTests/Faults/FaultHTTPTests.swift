import Foundation
import TestSupport
import Testing

extension FaultSuite {
    /// nginx in front: no request reaches the responder without valid credentials, a client's Remote-User header
    /// is never believed, and old TLS versions are refused.
    @Suite("HTTP: authentication and TLS", .serialized, .postgresCluster)
    final class HTTPSecurityTests {
        let ctx: CLITestContext

        init() throws { ctx = try CLITestContext() }
        deinit { ctx.remove() }

        static let paths: [(String, String)] = [
            ("GET", "/api/backups"), ("POST", "/api/backups"), ("GET", "/api/backups/"), ("GET", "/api/backups/status"),
            ("HEAD", "/api/backups/status"), ("POST", "/api/backups/restore"), ("POST", "/api/backups/cleanup"),
            ("DELETE", "/api/backups/backup_x_20250101_000000.sql.gz"),
            ("GET", "/api/backups/download/backup_x_20250101_000000.sql.gz"),
            ("POST", "/api/backups/backup_x_20250101_000000.sql.gz/verify"),
            ("GET", "/api/backups/jobs/0123456789abcdef0123456789abcdef"), ("GET", "/api/backups?page=1"),
            ("GET", "/api/backups/../api/backups/status"), ("GET", "//api/backups/status"), ("GET", "/api/backups%2fstatus"),
            ("GET", "/api/./backups/status"), ("GET", "/api/backupsEVIL"), ("GET", "/API/backups"),
            ("OPTIONS", "/api/backups"), ("PUT", "/api/backups/status"), ("GET", "/"), ("GET", "/index.html"),
        ]

        @Test func noRequestReachesTheResponderWithoutValidCredentials() throws {
            let db = try ctx.sampleCopy("auth")
            let stack = try FaultHTTPStack(environment: ctx.environment(database: db), startResponder: false)
            defer { stack.stop() }
            // In the responder's place: something that only counts connections.
            let tattler = try FaultSocketTattler(path: stack.socketPath)
            defer { tattler.stop() }
            let noColon = Data("\(stack.user)\(stack.password)".utf8).base64EncodedString()
            let credentials: [(String, HTTPCredentials)] = [
                ("no credentials", .none),
                ("wrong password", .basic(user: stack.user, password: "not-\(stack.password)")),
                ("wrong user", .basic(user: "root", password: stack.password)),
                ("empty user and password", .basic(user: "", password: "")),
                ("user without password", .basic(user: stack.user, password: "")),
                ("password as a bearer token", .authorization("Bearer \(stack.password)")),
                ("malformed basic", .authorization("Basic !!!not-base64!!!")),
                ("basic without a colon", .authorization("Basic \(noColon)")),
                ("lower-case scheme, wrong password", .authorization("basic " + Data("\(stack.user):x".utf8).base64EncodedString())),
            ]
            var checked = 0
            for (label, credential) in credentials {
                for (method, path) in Self.paths {
                    let reply = try stack.request(method, path, headers: ["Remote-User: \(stack.user)", "X-Remote-User: \(stack.user)"],
                                                  credentials: credential)
                    #expect([401, 404].contains(reply.status), "\(label), \(method) \(path): \(reply.status)")
                    if reply.status == 401 {
                        #expect(reply.header("www-authenticate")?.hasPrefix("Basic") == true, "\(label), \(method) \(path)")
                        if method != "HEAD" {
                            #expect(try reply.json()["error"] as? String == "unauthorized", "\(label), \(method) \(path)")
                        }
                    }
                    checked += 1
                }
            }
            #expect(tattler.connections == 0, "\(tattler.connections) of \(checked) unauthenticated requests reached the responder")

            // Control: with valid credentials nginx does forward (to the tattler, which hangs up: 502).
            let control = try stack.request("GET", "/api/backups/status")
            #expect(control.status == 502, "\(control)")
            #expect(tattler.connections == 1)
        }

        @Test func aClientSuppliedRemoteUserHeaderIsNotTrusted() throws {
            let db = try ctx.sampleCopy("remoteuser")
            let stack = try FaultHTTPStack(environment: ctx.environment(database: db))
            defer { stack.stop() }
            let spoof = ["Remote-User: mallory", "X-Remote-User: mallory", "X-Forwarded-User: mallory"]

            let accepted = try stack.request("POST", "/api/backups", json: #"{"description": "who am I"}"#,
                                             headers: spoof + ["Prefer: respond-async"])
            #expect(accepted.status == 202, "\(accepted)")
            let location = try #require(accepted.header("location"))
            var job: [String: Any] = [:]
            try Poll.until(timeout: 60, interval: 100_000) {
                job = try stack.request("GET", location, headers: spoof).json()
                return job["state"] as? String == "succeeded" || job["state"] as? String == "failed"
            }
            #expect(job["state"] as? String == "succeeded", "\(job)")
            #expect(job["user"] as? String == stack.user, "the job must record the authenticated user: \(job["user"] ?? "nil")")

            let cleanup = try stack.request("POST", "/api/backups/cleanup", json: "{}", headers: spoof)
            #expect(cleanup.status == 200, "\(cleanup)")
            let log = stack.stopResponder()?.err ?? ""
            #expect(log.contains("user=\(stack.user)"), "mutating requests are logged with nginx's REMOTE_USER: \(log)")
            #expect(!log.contains("mallory"), "a client header became the logged user: \(log)")
            let files = try FileTools.allFiles(under: ctx.backupDir).map { try Data(contentsOf: $0) }
            #expect(!files.contains { $0.range(of: Data("mallory".utf8)) != nil }, "a client header reached BACKUP_DIR")
        }

        @Test func tlsBelow1dot2IsRefusedAndCurrentVersionsWork() throws {
            let db = try ctx.sampleCopy("tls")
            let stack = try FaultHTTPStack(environment: ctx.environment(database: db))
            defer { stack.stop() }
            let openssl = try ProcessRunner.tool("openssl")
            func handshake(_ flag: String) throws -> ProcessResult {
                // SECLEVEL=0 so that OUR client is willing to offer the old version: the refusal must be the server's.
                try ProcessRunner.run(openssl, ["s_client", "-connect", "127.0.0.1:\(stack.port)", flag,
                                                "-cipher", "DEFAULT:@SECLEVEL=0", "-servername", "localhost"],
                                      stdin: Data(), timeout: .seconds(30))
            }
            for flag in ["-tls1", "-tls1_1"] {
                let result = try handshake(flag)
                #expect(result.status != 0, "\(flag) handshake succeeded: \(result)")
                #expect(result.combined.contains("alert protocol version"), "\(flag): the server must refuse the version: \(result)")
                #expect(result.combined.contains("Cipher is (NONE)"), "\(flag): \(result)")
            }
            for (flag, version) in [("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")] {
                let result = try handshake(flag)
                #expect(result.status == 0, "\(flag): \(result)")
                #expect(result.out.contains("New, \(version), Cipher is"), "\(flag): \(result.out.prefix(2_000))")
            }
            // curl agrees, and plain HTTP on the TLS port is not served either.
            let curl = try ProcessRunner.tool("curl")
            for version in ["1.0", "1.1"] {
                let result = try ProcessRunner.run(curl, ["-sS", "-k", "--tlsv\(version)", "--tls-max", version, "--ciphers",
                                                          "DEFAULT:@SECLEVEL=0", "https://127.0.0.1:\(stack.port)/api/backups/status"])
                #expect(result.status == 35, "curl TLS \(version): \(result)")
            }
            let plain = try ProcessRunner.run(curl, ["-s", "-o", "/dev/null", "-w", "%{http_code}",
                                                     "http://127.0.0.1:\(stack.port)/api/backups/status"])
            #expect(plain.out == "400", "plain HTTP on the TLS port: \(plain)")
        }
    }
}
