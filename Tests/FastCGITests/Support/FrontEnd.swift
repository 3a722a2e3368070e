import Foundation
import TestSupport
import Testing

/// fcgi-echo on a unix socket behind a throwaway nginx (nginx/local.sh) on a free loopback port.
final class FrontEnd {
    static let user = "admin"
    static let password = "correct horse battery staple"

    let scratch: TemporaryDirectory
    let socketPath: String
    let nginxDirectory: String
    let port: Int
    private(set) var echo: LoggedProcess?
    private var nginxStarted = false

    /// Starts fcgi-echo (unless `startEcho` is false) and nginx in front of it.
    init(echoArguments: [String] = [], startEcho: Bool = true) throws {
        scratch = try TemporaryDirectory(prefix: "fcgi", mode: 0o711)
        // Root-run nginx workers are www-data: they traverse this directory and connect as group www-data.
        let socketDirectory = try scratch.subdirectory("run", mode: 0o711)
        socketPath = socketDirectory.appendingPathComponent("fcgi.sock").path
        nginxDirectory = scratch.url.appendingPathComponent("nginx").path
        port = try LoopbackPort.free()
        do {
            if startEcho { try startResponder(extraArguments: echoArguments) }
            try startNginx()
        } catch {
            shutdown()
            throw error
        }
    }

    var baseURL: String { "https://127.0.0.1:\(port)" }

    /// Socket options that let nginx's workers connect: group www-data when running as root.
    var socketOptions: [String] {
        runningAsRoot ? ["--socket-group", "www-data", "--socket-mode", "0660"] : ["--socket-mode", "0600"]
    }

    func startResponder(extraArguments: [String] = []) throws {
        let child = try LoggedProcess(
            Paths.echo, ["--socket", socketPath] + socketOptions + extraArguments,
            in: scratch.url, name: "echo-\(UUID().uuidString.prefix(8))")
        echo = child
        try Self.waitUntilListening(child)
    }

    static func waitUntilListening(_ child: LoggedProcess) throws {
        let ready = Poll.until(timeout: 15, interval: 20_000) { child.stderr.contains("listening on") || !child.isRunning }
        guard ready, child.isRunning else {
            throw HarnessError.setup("fcgi-echo did not start: \(child.stderr)")
        }
    }

    private func startNginx() throws {
        var environment = ProcessInfo.processInfo.environment
        environment["PGBACKUP_HTTP_PASSWORD"] = Self.password
        environment["PGBACKUP_HTTP_USER"] = Self.user
        let child = try LoggedProcess(
            Paths.localNginx, ["start", nginxDirectory, String(port), socketPath],
            environment: environment, in: scratch.url, name: "local-start")
        let result = try child.result(timeout: 60)
        guard result.status == 0 else { throw HarnessError.setup("local.sh start failed: \(result.err)") }
        nginxStarted = true
    }

    func shutdown() {
        echo?.stop()
        if nginxStarted,
            let child = try? LoggedProcess(Paths.localNginx, ["stop", nginxDirectory], in: scratch.url, name: "local-stop")
        {
            _ = try? child.result(timeout: 60)
        }
        scratch.remove()
    }

    // MARK: - Requests

    struct Response {
        var status: Int
        var body: Data
        var headers: String
        var curlExit: Int32
        var curlError: String
        var text: String { String(decoding: body, as: UTF8.self) }

        func json() throws -> [String: Any] {
            guard let object = try JSONSerialization.jsonObject(with: body) as? [String: Any] else {
                throw HarnessError.setup("not a JSON object: \(text)")
            }
            return object
        }
    }

    /// A curl request to `path`; authenticated as the configured user unless `credentials` says otherwise.
    func request(
        _ path: String, credentials: (String, String)? = (FrontEnd.user, FrontEnd.password),
        extraArguments: [String] = [], timeout: Int = 30
    ) throws -> Response {
        let pending = try start(path, credentials: credentials, extraArguments: extraArguments, timeout: timeout)
        return try pending.finish()
    }

    final class PendingRequest {
        let child: LoggedProcess
        let bodyURL: URL
        let headersURL: URL
        let timeout: Int

        init(child: LoggedProcess, bodyURL: URL, headersURL: URL, timeout: Int) {
            self.child = child
            self.bodyURL = bodyURL
            self.headersURL = headersURL
            self.timeout = timeout
        }

        func finish() throws -> Response {
            let result = try child.result(timeout: TimeInterval(timeout + 10))
            return Response(
                status: Int(result.out.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0,
                body: (try? Data(contentsOf: bodyURL)) ?? Data(),
                headers: (try? String(contentsOf: headersURL, encoding: .utf8)) ?? "",
                curlExit: result.status, curlError: result.err)
        }
    }

    /// Starts a curl request in the background.
    func start(
        _ path: String, credentials: (String, String)? = (FrontEnd.user, FrontEnd.password),
        extraArguments: [String] = [], timeout: Int = 30
    ) throws -> PendingRequest {
        let name = "curl-\(UUID().uuidString.prefix(8))"
        let bodyURL = scratch.url.appendingPathComponent("\(name).body")
        let headersURL = scratch.url.appendingPathComponent("\(name).headers")
        var arguments = [
            "-sS", "-k", "--max-time", String(timeout), "-o", bodyURL.path, "-D", headersURL.path,
            "-w", "%{http_code}",
        ]
        if let (user, password) = credentials {
            // curl reads the credentials from a config file: no password in argv.
            let config = scratch.url.appendingPathComponent("\(name).netrc-config")
            try "user = \"\(user):\(password)\"\n".write(to: config, atomically: true, encoding: .utf8)
            arguments += ["-K", config.path]
        }
        arguments += extraArguments + [baseURL + path]
        let child = try LoggedProcess(try ProcessRunner.tool("curl"), arguments, in: scratch.url, name: name)
        return PendingRequest(child: child, bodyURL: bodyURL, headersURL: headersURL, timeout: timeout)
    }

    /// The number of requests fcgi-echo has served (this call included).
    func servedCount() throws -> Int {
        let response = try request("/api/backups/stats")
        guard response.status == 200, let count = try response.json()["requests"] as? Int else {
            throw HarnessError.setup("stats failed: \(response.status) \(response.text)")
        }
        return count
    }
}
