import Foundation
import TestSupport
import Testing

extension ProcessTests {
    /// nginx/pgbackup.conf rendered by nginx/local.sh, in front of fcgi-echo.
    @Suite struct NginxFront {
        @Test func renderedConfigurationPassesNginxTest() throws {
            let front = try FrontEnd()
            defer { front.shutdown() }
            let check = try LoggedProcess(
                try ProcessRunner.tool("nginx"), ["-t", "-p", front.nginxDirectory + "/", "-c", front.nginxDirectory + "/nginx.conf"],
                in: front.scratch.url, name: "nginx-t")
            let result = try check.result(timeout: 30)
            #expect(result.status == 0, "nginx -t: \(result.err)")
            #expect(result.err.contains("test is successful"))

            let site = try String(contentsOfFile: front.nginxDirectory + "/pgbackup.conf", encoding: .utf8)
            let directives = site.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("#") }
                .joined(separator: "\n")
            #expect(directives.contains("listen 127.0.0.1:\(front.port) ssl"))
            #expect(directives.contains("fastcgi_pass unix:\(front.socketPath);"))
            #expect(directives.contains("auth_basic_user_file \(front.nginxDirectory)/htpasswd;"))
            #expect(!directives.contains("[::]"))
            #expect(!directives.contains("/etc/pgbackup"))
            #expect(!directives.contains("/run/pgbackup"))
            let htpasswd = try String(contentsOfFile: front.nginxDirectory + "/htpasswd", encoding: .utf8)
            #expect(htpasswd.hasPrefix("\(FrontEnd.user):$apr1$"))
            #expect(!htpasswd.contains(FrontEnd.password))
        }

        @Test func basicAuthGuardsTheAPI() throws {
            let front = try FrontEnd()
            defer { front.shutdown() }

            let anonymous = try front.request("/api/backups", credentials: nil)
            #expect(anonymous.status == 401)
            #expect(anonymous.headers.lowercased().contains("www-authenticate: basic realm=\"pgbackup\""))
            #expect(try anonymous.json()["error"] as? String == "unauthorized")

            let wrong = try front.request("/api/backups/", credentials: (FrontEnd.user, "not the password"))
            #expect(wrong.status == 401)
            let unknownUser = try front.request("/api/backups", credentials: ("mallory", FrontEnd.password))
            #expect(unknownUser.status == 401)

            let right = try front.request("/api/backups")
            #expect(right.status == 200)
            let echoed = try right.json()
            #expect(echoed["method"] as? String == "GET")
            #expect(echoed["remote_user"] as? String == FrontEnd.user)
            #expect(echoed["listener"] as? String == "unix-socket")
            // The rejected requests never reached the responder: only `right` and this count did.
            #expect(try front.servedCount() == 2)
        }

        @Test func pathsOutsideTheAPIAreNotFoundWithoutReachingTheResponder() throws {
            let front = try FrontEnd()
            defer { front.shutdown() }
            let before = try front.servedCount()
            for path in ["/api/backupsEVIL", "/api/backupsEVIL/x", "/", "/api", "/api/backup", "/index.html"] {
                let response = try front.request(path)
                #expect(response.status == 404, "\(path)")
                #expect(try response.json()["error"] as? String == "not_found", "\(path)")
            }
            #expect(try front.servedCount() == before + 1)
        }

        /// Not nginx's HTML 301 to the slashed prefix: a JSON 401 without credentials, a JSON 404 with them.
        @Test func theDownloadPrefixWithoutItsSlashIsAJSONNotFound() throws {
            let front = try FrontEnd()
            defer { front.shutdown() }
            let before = try front.servedCount()
            let anonymous = try front.request("/api/backups/download", credentials: nil)
            #expect(anonymous.status == 401, "\(anonymous)")
            #expect(try anonymous.json()["error"] as? String == "unauthorized")
            for method in ["GET", "POST", "DELETE"] {
                let response = try front.request("/api/backups/download", extraArguments: ["-X", method])
                #expect(response.status == 404, "\(method): \(response)")
                #expect(try response.json()["error"] as? String == "not_found", "\(method)")
            }
            #expect(try front.servedCount() == before + 1)
        }

        @Test func tlsBelow1_2IsRefusedByTheServer() throws {
            let front = try FrontEnd()
            defer { front.shutdown() }
            // SECLEVEL=0 lets the client offer TLS 1.1, so a failure is the server's refusal.
            let legacy = try front.request(
                "/api/backups", extraArguments: ["--tlsv1.1", "--tls-max", "1.1", "--ciphers", "DEFAULT:@SECLEVEL=0"])
            #expect(legacy.curlExit == 35)
            #expect(legacy.curlError.contains("alert protocol version"))

            let tls12 = try front.request("/api/backups", extraArguments: ["--tlsv1.2", "--tls-max", "1.2"])
            #expect(tls12.status == 200)
            let tls13 = try front.request("/api/backups", extraArguments: ["--tlsv1.3"])
            #expect(tls13.status == 200)
        }

        @Test func clientRemoteUserHeaderIsNotTrusted() throws {
            let front = try FrontEnd()
            defer { front.shutdown() }
            let spoofed = try front.request("/api/backups", extraArguments: ["-H", "Remote-User: mallory"])
            #expect(spoofed.status == 200)
            let echoed = try spoofed.json()
            #expect(echoed["remote_user"] as? String == FrontEnd.user)

            let anonymous = try front.request("/api/backups", credentials: nil, extraArguments: ["-H", "Remote-User: admin"])
            #expect(anonymous.status == 401)
        }

        @Test func credentialsNeverReachTheResponder() throws {
            let front = try FrontEnd()
            defer { front.shutdown() }
            let response = try front.request("/api/backups/anything")
            #expect(response.status == 200)
            let authorization = try response.json()["http_authorization"] as? String
            #expect((authorization ?? "").isEmpty)
            #expect(!response.text.contains("Basic"))
        }

        @Test func bodiesOver64KiBAreRejectedByNginx() throws {
            let front = try FrontEnd()
            defer { front.shutdown() }
            let large = front.scratch.url.appendingPathComponent("70k")
            try Data(repeating: 0x61, count: 70 * 1024).write(to: large)
            let before = try front.servedCount()
            let rejected = try front.request("/api/backups", extraArguments: ["--data-binary", "@\(large.path)"])
            #expect(rejected.status == 413)
            #expect(try rejected.json()["error"] as? String == "payload_too_large")
            #expect(try front.servedCount() == before + 1)

            let bytes = (0..<(60 * 1024)).map { UInt8($0 % 256) }
            let accepted = front.scratch.url.appendingPathComponent("60k")
            try Data(bytes).write(to: accepted)
            let response = try front.request(
                "/api/backups", extraArguments: ["-H", "Content-Type: application/json", "--data-binary", "@\(accepted.path)"])
            #expect(response.status == 200)
            let echoed = try response.json()
            #expect(echoed["method"] as? String == "POST")
            #expect(echoed["body_length"] as? Int == bytes.count)
            #expect(echoed["content_length"] as? Int == bytes.count)
            #expect(echoed["content_type"] as? String == "application/json")
            #expect(echoed["body_fnv1a"] as? String == fnv1a(bytes))
        }

        @Test func rawAndDecodedURIsReachTheResponder() throws {
            let front = try FrontEnd()
            defer { front.shutdown() }
            let response = try front.request("/api/backups/a%2Fb/c?x=1&y=%41")
            #expect(response.status == 200)
            let echoed = try response.json()
            #expect(echoed["request_uri"] as? String == "/api/backups/a%2Fb/c?x=1&y=%41")
            #expect(echoed["document_uri"] as? String == "/api/backups/a/b/c")
            #expect(echoed["query_string"] as? String == "x=1&y=%41")
        }

        @Test func aStoppedResponderIsAJSON502() throws {
            let front = try FrontEnd()
            defer { front.shutdown() }
            front.echo?.stop()
            let response = try front.request("/api/backups")
            #expect(response.status == 502)
            #expect(try response.json()["error"] as? String == "responder_unavailable")
        }

        @Test func localShRestartsCleanlyAndStopIsIdempotent() throws {
            let front = try FrontEnd()
            defer { front.shutdown() }
            let pidFile = front.nginxDirectory + "/nginx.pid"
            let firstPid = try String(contentsOfFile: pidFile, encoding: .utf8)
            var environment = ProcessInfo.processInfo.environment
            environment["PGBACKUP_HTTP_PASSWORD"] = FrontEnd.password
            let again = try LoggedProcess(
                Paths.localNginx, ["start", front.nginxDirectory, String(front.port), front.socketPath],
                environment: environment, in: front.scratch.url, name: "restart")
            let restart = try again.result(timeout: 60)
            #expect(restart.status == 0, "\(restart.err)")
            #expect(restart.err.isEmpty && restart.out.isEmpty)
            #expect(try String(contentsOfFile: pidFile, encoding: .utf8) != firstPid)
            #expect(try front.request("/api/backups").status == 200)

            for attempt in 1...2 {
                let stop = try LoggedProcess(
                    Paths.localNginx, ["stop", front.nginxDirectory], in: front.scratch.url, name: "stop-\(attempt)")
                let result = try stop.result(timeout: 60)
                #expect(result.status == 0, "\(result.err)")
            }
            #expect(!FileManager.default.fileExists(atPath: pidFile))
            let refused = try front.request("/api/backups", timeout: 5)
            #expect(refused.curlExit == 7)  // connection refused: nothing listens any more
        }

        @Test func localShRequiresAPassword() throws {
            let scratch = try TemporaryDirectory(prefix: "fcgi", mode: 0o711)
            defer { scratch.remove() }
            var environment = ProcessInfo.processInfo.environment
            environment["PGBACKUP_HTTP_PASSWORD"] = nil
            let child = try LoggedProcess(
                Paths.localNginx, ["start", scratch.path + "/nginx", "1", scratch.path + "/s.sock"],
                environment: environment, in: scratch.url, name: "nopass")
            let result = try child.result(timeout: 30)
            #expect(result.status == 1)
            #expect(result.err == "local.sh: set PGBACKUP_HTTP_PASSWORD\n")
        }
    }
}
