import Foundation
import TestSupport
import Testing

extension ProcessTests {
    /// How fcgi-echo gets its socket, talking FastCGI to it directly with libfcgi's cgi-fcgi.
    @Suite struct ListenerLaunch {
        /// One FastCGI request with `cgi-fcgi`, which sends its whole environment as the params.
        static func fastCGIRequest(socket: String, uri: String, query: String = "", in scratch: TemporaryDirectory) throws
            -> (head: String, json: [String: Any])
        {
            let child = try LoggedProcess(
                try ProcessRunner.tool("cgi-fcgi"), ["-bind", "-connect", socket],
                environment: ["REQUEST_METHOD": "GET", "DOCUMENT_URI": uri, "REQUEST_URI": uri, "QUERY_STRING": query],
                in: scratch.url, name: "cgi-fcgi-\(UUID().uuidString.prefix(8))")
            let result = try child.result(timeout: 15)
            guard result.status == 0, let split = result.out.range(of: "\r\n\r\n") else {
                throw HarnessError.setup("cgi-fcgi failed (\(result.status)): \(result.out) \(result.err)")
            }
            let body = Data(result.out[split.upperBound...].utf8)
            let json = try JSONSerialization.jsonObject(with: body) as? [String: Any] ?? [:]
            return (String(result.out[..<split.lowerBound]), json)
        }

        @Test func systemdSocketActivationUsesFd3AndClearsListenVariables() throws {
            let scratch = try TemporaryDirectory(prefix: "fcgi", mode: 0o711)
            defer { scratch.remove() }
            let socket = scratch.path + "/activated.sock"
            // systemd-socket-activate binds the socket, waits for a connection, then execs the responder
            // with the socket as fd 3, LISTEN_FDS=1 and LISTEN_PID set: what systemd does.
            let launcher = try LoggedProcess(
                try ProcessRunner.tool("systemd-socket-activate"), ["-l", socket, Paths.echo], in: scratch.url, name: "activated")
            defer { launcher.stop() }
            #expect(Poll.until(timeout: 10, interval: 20_000) { FileManager.default.fileExists(atPath: socket) })

            let (head, json) = try Self.fastCGIRequest(socket: socket, uri: "/api/backups", in: scratch)
            #expect(head.hasPrefix("Status: 200 OK\r\n"), "\(launcher.stderr)")
            #expect(json["listener"] as? String == "systemd")
            #expect(json["listen_fds_env"] is NSNull)
            #expect(launcher.stderr.contains("listening on fd 3 (systemd socket activation)"))

            launcher.signal(SIGTERM)
            #expect(launcher.wait(timeout: 10) == 0)
        }

        @Test func idleTimeoutStopsTheResponderButNeverDuringARequest() throws {
            let scratch = try TemporaryDirectory(prefix: "fcgi", mode: 0o711)
            defer { scratch.remove() }
            let socket = scratch.path + "/idle.sock"
            let echo = try LoggedProcess(
                Paths.echo, ["--socket", socket, "--idle-timeout", "1"], in: scratch.url, name: "idle")
            defer { echo.stop() }
            try FrontEnd.waitUntilListening(echo)

            // A request longer than the idle timeout: the clock only runs while nothing is in flight.
            let (head, json) = try Self.fastCGIRequest(socket: socket, uri: "/api/backups/slow", query: "ms=2000", in: scratch)
            #expect(head.hasPrefix("Status: 200 OK"))
            #expect(json["slept_ms"] as? Int == 2000)
            let requestEnded = Date()
            let status = echo.wait(timeout: 10)
            let idleSeconds = Date().timeIntervalSince(requestEnded)
            #expect(status == 0)
            #expect(idleSeconds > 0.5 && idleSeconds < 5, "exited \(idleSeconds) s after the request")
            #expect(echo.stderr.contains("stopping: no request for"))
            #expect(!FileManager.default.fileExists(atPath: socket))
        }

        @Test func aLiveSocketIsNeverTakenOverButAStaleOneIsReplaced() throws {
            let scratch = try TemporaryDirectory(prefix: "fcgi", mode: 0o711)
            defer { scratch.remove() }
            let socket = scratch.path + "/shared.sock"
            let first = try LoggedProcess(Paths.echo, ["--socket", socket], in: scratch.url, name: "first")
            defer { first.stop() }
            try FrontEnd.waitUntilListening(first)

            let second = try LoggedProcess(Paths.echo, ["--socket", socket], in: scratch.url, name: "second")
            #expect(second.wait(timeout: 10) == 1)
            #expect(second.stderr.contains(
                "error: another process is already listening on \(socket); refusing to take the socket over"))
            let (_, stillFirst) = try Self.fastCGIRequest(socket: socket, uri: "/api/backups", in: scratch)
            #expect(stillFirst["pid"] as? Int == Int(first.pid))

            // A crash leaves the socket file behind with nobody listening: the next start replaces it.
            first.signal(SIGKILL)
            first.wait(timeout: 10)
            #expect(FileManager.default.fileExists(atPath: socket))
            let third = try LoggedProcess(Paths.echo, ["--socket", socket], in: scratch.url, name: "third")
            defer { third.stop() }
            try FrontEnd.waitUntilListening(third)
            let (_, fromThird) = try Self.fastCGIRequest(socket: socket, uri: "/api/backups", in: scratch)
            #expect(fromThird["pid"] as? Int == Int(third.pid))
        }

        @Test func noListenerIsAClearStartupError() throws {
            let scratch = try TemporaryDirectory(prefix: "fcgi", mode: 0o711)
            defer { scratch.remove() }
            var environment = ProcessInfo.processInfo.environment
            for key in ["PGBACKUP_FCGI_SOCKET", "LISTEN_FDS", "LISTEN_PID"] { environment[key] = nil }
            let child = try LoggedProcess(Paths.echo, [], environment: environment, in: scratch.url, name: "nolistener")
            let result = try child.result(timeout: 10)
            #expect(result.status == 1)
            #expect(result.err.contains("error: no socket to listen on: pass --socket PATH"))
        }
    }
}
