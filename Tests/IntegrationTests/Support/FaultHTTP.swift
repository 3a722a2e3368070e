import Foundation
import TestSupport
import Testing

/// One HTTP answer as curl saw it.
struct HTTPReply: CustomStringConvertible {
    var status: Int
    /// Header names lower-cased, in order.
    var headers: [(name: String, value: String)]
    var rawHeaders: String
    var body: Data

    var text: String { String(decoding: body, as: UTF8.self) }
    func header(_ name: String) -> String? { headers.last { $0.name == name.lowercased() }?.value }
    func json() throws -> [String: Any] { try JSON.object(body) }
    func jsonArray() throws -> [[String: Any]] { try JSON.array(body) }

    var description: String { "HTTP \(status)\n\(rawHeaders)\n\(text.prefix(2_000))" }
}

/// How a request authenticates.
enum HTTPCredentials {
    case valid
    case none
    /// Basic auth with this user and password (wrong ones, for the auth tests).
    case basic(user: String, password: String)
    /// A raw `Authorization` header value.
    case authorization(String)
}

/// The real pgbackup-fcgi behind the real nginx (nginx/pgbackup.conf rendered by nginx/local.sh: TLS and basic
/// auth) on a free loopback port. Requests go through curl, which checks the stack's own certificate.
final class FaultHTTPStack: @unchecked Sendable {
    let root: TemporaryDirectory
    let nginxDir: URL
    let socketPath: String
    let port: Int
    let user = "admin"
    let password: String
    let responderEnvironment: [String: String]
    private let curlConfig: URL
    private let lock = NSLock()
    private var counter = 0
    private(set) var responder: RunningProcess?
    /// What earlier responders (stopped or killed) wrote to stderr, oldest first.
    private(set) var responderLogs: [String] = []

    /// - Parameter environment: the responder's environment (BACKUP_DIR, POSTGRES_*, PGBACKUP_ENV_FILE…).
    /// - Parameter startResponder: false when the test puts something else on the socket.
    init(environment: [String: String], startResponder: Bool = true) throws {
        root = try TemporaryDirectory(prefix: "http")
        // nginx's workers (www-data) must traverse to the socket and to the htpasswd in nginxDir.
        chmod(root.path, 0o711)
        let run = root.appending("run")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        chmod(run.path, 0o711)
        socketPath = run.appendingPathComponent("fcgi.sock").path
        nginxDir = root.appending("nginx")
        port = try LoopbackPort.free()
        password = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        responderEnvironment = environment
        curlConfig = root.appending("curl.conf")
        try Self.writeCurlConfig(user: user, password: password, to: curlConfig)
        do {
            if startResponder { try self.startResponder() }
            try startNginx()
        } catch {
            stop()
            throw error
        }
    }

    private func startNginx() throws {
        var env = RunningProcess.baseEnvironment(home: root.path)
        env["PGBACKUP_HTTP_PASSWORD"] = password
        env["PGBACKUP_HTTP_USER"] = user
        let script = SourceTree.root.appendingPathComponent("nginx/local.sh").path
        let result = try ProcessRunner.run(
            try ProcessRunner.tool("bash"), [script, "start", nginxDir.path, String(port), socketPath],
            environment: env, timeout: .seconds(60))
        guard result.status == 0 else { throw HarnessError.commandFailed("nginx/local.sh start", result) }
    }

    /// Starts pgbackup-fcgi on the socket and waits until it accepts connections.
    func startResponder(extraArguments: [String] = []) throws {
        let process = try RunningProcess(
            try Binaries.path("pgbackup-fcgi"), ["--socket", socketPath, "--socket-group", "www-data"] + extraArguments,
            environment: responderEnvironment.merging(["PGBACKUP_OPERATORS": user]) { given, _ in given })
        lock.withLock { responder = process }
        let up = Poll.until(timeout: 20, interval: 10_000) { !process.isRunning || UnixSocket.accepts(socketPath) }
        guard up, process.isRunning else {
            let result = process.wait(timeout: .seconds(5))
            throw HarnessError.commandFailed("pgbackup-fcgi did not start listening on \(socketPath)", result)
        }
    }

    /// Stops the responder with SIGTERM (or `signal`) and returns what it wrote.
    @discardableResult
    func stopResponder(signal: Int32 = SIGTERM) -> ProcessResult? {
        guard let process = lock.withLock({ responder }) else { return nil }
        process.signal(signal)
        let result = process.wait(timeout: .seconds(20))
        lock.withLock {
            responderLogs.append(result.err)
            responder = nil
        }
        return result
    }

    /// Stops the responder, nginx and any job the responder left running, and removes the stack's files; safe to
    /// call twice.
    func stop() {
        stopResponder()
        let script = SourceTree.root.appendingPathComponent("nginx/local.sh").path
        _ = try? ProcessRunner.run("/bin/bash", [script, "stop", nginxDir.path],
                                   environment: RunningProcess.baseEnvironment(home: root.path), timeout: .seconds(30))
        killDetachedJobs()
        root.remove()
    }

    /// Jobs run in their own session and outlive the responder by design; a test must not leave one running.
    private func killDetachedJobs() {
        guard let backupDir = responderEnvironment["BACKUP_DIR"] else { return }
        let jobs = URL(fileURLWithPath: backupDir).appendingPathComponent(".jobs")
        for name in FileTools.names(in: jobs) where name.hasSuffix(".json") {
            guard let job = try? JSON.object(Data(contentsOf: jobs.appendingPathComponent(name))),
                  let pid = JSON.int(job["pid"]), pid > 1,
                  let argv = ProcessTable.commandLine(pid_t(pid)), argv.range(of: Data("--run-job".utf8)) != nil
            else { continue }
            kill(pid_t(pid), SIGKILL)
        }
    }

    /// nginx's access and error logs.
    func nginxLogs() -> String {
        ["access.log", "error.log"].compactMap { try? String(contentsOf: nginxDir.appendingPathComponent($0), encoding: .utf8) }
            .joined(separator: "\n")
    }

    /// Sends one request through nginx with curl (`--path-as-is`, so `..` and encodings reach nginx unchanged).
    func request(
        _ method: String, _ path: String, json body: String? = nil, rawBody: Data? = nil,
        contentType: String = "application/json", headers: [String] = [], credentials: HTTPCredentials = .valid,
        timeout: Duration = .seconds(180)
    ) throws -> HTTPReply {
        let id = lock.withLock { () -> Int in
            counter += 1
            return counter
        }
        let headerFile = root.appending("reply-\(id).headers")
        let bodyFile = root.appending("reply-\(id).body")
        defer {
            try? FileManager.default.removeItem(at: headerFile)
            try? FileManager.default.removeItem(at: bodyFile)
        }
        var arguments = ["-sS", "--path-as-is", "--cacert", nginxDir.appendingPathComponent("tls/cert.pem").path,
                         "-D", headerFile.path, "-o", bodyFile.path, "-w", "%{http_code}"]
        arguments += method == "HEAD" ? ["--head"] : ["-X", method]
        var extraConfig: URL?
        switch credentials {
        case .valid:
            arguments += ["-K", curlConfig.path]
        case .none:
            break
        case let .basic(user, password):
            let config = root.appending("curl-\(id).conf")
            try Self.writeCurlConfig(user: user, password: password, to: config)
            extraConfig = config
            arguments += ["-K", config.path]
        case let .authorization(value):
            arguments += ["-H", "Authorization: \(value)"]
        }
        defer { if let extraConfig { try? FileManager.default.removeItem(at: extraConfig) } }
        for header in headers { arguments += ["-H", header] }
        let payload = rawBody ?? body.map { Data($0.utf8) }
        if payload != nil { arguments += ["-H", "Content-Type: \(contentType)", "--data-binary", "@-"] }
        arguments.append("https://127.0.0.1:\(port)\(path)")
        let result = try ProcessRunner.run(try ProcessRunner.tool("curl"), arguments,
                                           environment: RunningProcess.baseEnvironment(home: root.path),
                                           stdin: payload, timeout: timeout)
        guard result.status == 0, let status = Int(result.out.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw HarnessError.commandFailed("curl \(method) \(path)", result)
        }
        let raw = (try? String(contentsOf: headerFile, encoding: .utf8)) ?? ""
        // Keep the last header block only (after a 100 Continue there are two).
        let block = raw.components(separatedBy: "\r\n\r\n").filter { !$0.isEmpty }.last ?? raw
        var headers: [(String, String)] = []
        for line in block.components(separatedBy: "\r\n").dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        let data = (try? Data(contentsOf: bodyFile)) ?? Data()
        return HTTPReply(status: status, headers: headers, rawHeaders: block, body: data)
    }

    private static func writeCurlConfig(user: String, password: String, to url: URL) throws {
        let escaped = "\(user):\(password)".replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "\"", with: "\\\"")
        try Data("user = \"\(escaped)\"\n".utf8).write(to: url)
        chmod(url.path, 0o600)
    }
}

/// Stands where the responder's socket would be and counts every connection nginx makes to it (closing each at
/// once, so nginx answers 502). Zero connections proves no request reached the responder.
final class FaultSocketTattler: @unchecked Sendable {
    private let fd: Int32
    private let path: String
    private let lock = NSLock()
    private var accepted = 0
    private var stopped = false
    private let done = DispatchSemaphore(value: 0)

    init(path: String, group: String = "www-data") throws {
        self.path = path
        guard var address = UnixSocket.address(path) else { throw HarnessError.setup("socket path too long") }
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HarnessError.setup("socket: errno \(errno)") }
        unlink(path)
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
            }
        }
        guard bound, listen(fd, 64) == 0 else {
            close(fd)
            throw HarnessError.setup("cannot listen on \(path): errno \(errno)")
        }
        if let entry = getgrnam(group) { chown(path, 0, entry.pointee.gr_gid) }
        chmod(path, 0o660)
        let listener = fd
        Thread { [self] in
            while true {
                let client = accept(listener, nil, nil)
                if client < 0 {
                    if errno == EINTR { continue }
                    break
                }
                lock.withLock { accepted += 1 }
                close(client)
            }
            done.signal()
        }.start()
    }

    var connections: Int { lock.withLock { accepted } }

    func stop() {
        let first = lock.withLock { () -> Bool in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        shutdown(fd, Int32(SHUT_RDWR))
        _ = done.wait(timeout: .now() + 5)
        close(fd)
        unlink(path)
    }
}
