import Foundation
import TestSupport
import Testing

/// The API as a client meets it: nginx from `nginx/pgbackup.conf` (rendered by `nginx/local.sh`: TLS, basic auth,
/// a free loopback port) in front of a responder on a unix socket, with a private BACKUP_DIR. `stop()` (also run
/// by `deinit`) ends nginx, the responder and any detached job the responder started, whatever the test did.
final class NginxStack: @unchecked Sendable {
    let scratch: TemporaryDirectory
    let nginxDir: URL
    let socketPath: String
    let backupDir: URL
    let port: Int
    let user = "admin"
    let password: String
    /// A user who may only look (in nginx's htpasswd, not in operators.htpasswd or PGBACKUP_OPERATORS).
    let reader = "monitor"
    let readerPassword: String
    /// What the responder's environment was built from, so a restart gets the same one.
    let responderEnvironment: [String: String]
    let program: ResponderProcess.Program
    private let lock = NSLock()
    private var responderProcess: ResponderProcess?
    private var stopped = false
    /// stderr of every responder process that has ended, oldest first.
    private(set) var responderLogs: [String] = []

    var baseURL: String { "https://127.0.0.1:\(port)" }
    var responder: ResponderProcess? { lock.withLock { responderProcess } }

    /// - Parameters:
    ///   - database: POSTGRES_* for the responder; nil points it at a server that does not exist (requests
    ///     that must not reach PostgreSQL then fail loudly instead of touching one).
    ///   - settings: extra environment (BACKUP_* settings) for the responder.
    init(cluster: PostgresCluster? = nil, database: String? = nil, settings: [String: String] = [:],
         program: ResponderProcess.Program = .pgbackupFCGI) throws {
        let scratch = try TemporaryDirectory(prefix: "api")
        self.scratch = scratch
        nginxDir = scratch.appending("nginx")
        let socketDir = scratch.appending("sock")
        socketPath = socketDir.appendingPathComponent("fcgi.sock").path
        backupDir = scratch.appending("backups")
        password = "pw-" + UUID().uuidString.prefix(12).lowercased()
        readerPassword = "rpw-" + UUID().uuidString.prefix(12).lowercased()
        self.program = program
        var env = RunningProcess.baseEnvironment(home: scratch.appending("home").path)
        if let cluster, let database {
            env.merge(cluster.environment(database: database)) { _, new in new }
        } else {
            env.merge(["POSTGRES_HOST": scratch.appending("no-server").path, "POSTGRES_PORT": "1",
                       "POSTGRES_USER": "nobody", "POSTGRES_DB": "nowhere"]) { _, new in new }
        }
        env["BACKUP_DIR"] = backupDir.path
        env["PGBACKUP_ENV_FILE"] = scratch.appending("empty.env").path
        env["PGBACKUP_OPERATORS"] = user
        env.merge(settings) { _, new in new }
        responderEnvironment = env

        var started: ResponderProcess?
        do {
            try FileManager.default.createDirectory(at: socketDir, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: scratch.appending("home"), withIntermediateDirectories: true)
            try Data().write(to: scratch.appending("empty.env"))
            if let group = ResponderProcess.workerGroup {
                // nginx's workers must traverse the scratch dir to reach the socket, and nothing more.
                guard chmod(scratch.path, 0o711) == 0, let entry = getgrnam(group),
                      chown(socketDir.path, 0, entry.pointee.gr_gid) == 0, chmod(socketDir.path, 0o710) == 0
                else { throw HarnessError.setup("cannot open \(socketDir.path) to group \(group): errno \(errno)") }
            }
            started = try ResponderProcess.start(program, socket: socketPath, environment: env)
            port = try Self.startNginx(dir: nginxDir, socket: socketPath, user: user, password: password,
                                       reader: reader, readerPassword: readerPassword)
        } catch {
            _ = try? ProcessRunner.run(SourceTree.file("nginx/local.sh").path, ["stop", nginxDir.path])
            started?.stop()
            scratch.remove()
            throw error
        }
        responderProcess = started
    }

    deinit { stop() }

    /// `nginx/local.sh start` on a free port; a port lost to another process in between is retried.
    private static func startNginx(dir: URL, socket: String, user: String, password: String,
                                   reader: String, readerPassword: String) throws -> Int {
        var env = RunningProcess.baseEnvironment()
        env["PGBACKUP_HTTP_PASSWORD"] = password
        env["PGBACKUP_HTTP_USER"] = user
        env["PGBACKUP_HTTP_READER"] = reader
        env["PGBACKUP_HTTP_READER_PASSWORD"] = readerPassword
        var last: ProcessResult?
        for _ in 0..<4 {
            let port = try LoopbackPort.free()
            let result = try ProcessRunner.run(
                SourceTree.file("nginx/local.sh").path, ["start", dir.path, String(port), socket], environment: env,
                timeout: .seconds(60))
            if result.status == 0 { return port }
            last = result
            if !result.err.contains("in use") && !result.err.contains("did not start listening") { break }
        }
        throw HarnessError.commandFailed("nginx/local.sh start", last ?? ProcessResult(status: -1, signal: nil, stdout: Data(), stderr: Data(), timedOut: false))
    }

    /// Stops the responder (SIGTERM, or the given signal) and returns its log.
    @discardableResult
    func stopResponder(signal: Int32 = SIGTERM) -> ProcessResult? {
        guard let current = lock.withLock({ () -> ResponderProcess? in
            defer { responderProcess = nil }
            return responderProcess
        }) else { return nil }
        let result = current.stop(signal: signal)
        lock.withLock { responderLogs.append(result.err) }
        return result
    }

    /// Starts a new responder on the same socket with the same environment.
    func startResponder() throws {
        let started = try ResponderProcess.start(program, socket: socketPath, environment: responderEnvironment)
        lock.withLock { responderProcess = started }
    }

    /// Ends everything this stack started; safe to call twice.
    func stop() {
        guard lock.withLock({ () -> Bool in
            defer { stopped = true }
            return !stopped
        }) else { return }
        _ = try? ProcessRunner.run(SourceTree.file("nginx/local.sh").path, ["stop", nginxDir.path], timeout: .seconds(60))
        stopResponder()
        killDetachedJobs()
        scratch.remove()
    }

    /// Jobs run in their own session, so they outlive the responder by design; a test must not leave one behind.
    private func killDetachedJobs() {
        let jobs = backupDir.appendingPathComponent(".jobs")
        for name in FileTools.names(in: jobs) where name.hasSuffix(".json") {
            guard let job = try? JSON.object(Data(contentsOf: jobs.appendingPathComponent(name))),
                  let pid = JSON.int(job["pid"]), pid > 1 else { continue }
            let cmdline = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
            if cmdline.contains("--run-job") { kill(pid_t(pid), SIGKILL) }
        }
    }

    // MARK: - The backup directory

    /// Every file below BACKUP_DIR (hidden ones and subdirectories included) with its SHA-256, for
    /// "nothing changed" assertions.
    func snapshot() throws -> [String: String] {
        let files = FileTools.allFiles(under: backupDir).map(\.path).sorted()
        guard !files.isEmpty else { return [:] }
        let result = try ProcessRunner.run(try ProcessRunner.tool("sha256sum"), ["--"] + files)
        guard result.status == 0 else { throw HarnessError.commandFailed("sha256sum", result) }
        var snapshot: [String: String] = [:]
        for line in result.out.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let path = String(parts[1].drop { $0 == " " || $0 == "*" })
            snapshot[String(path.dropFirst(backupDir.path.count + 1))] = String(parts[0])
        }
        return snapshot
    }

    func sidecar(_ name: String) throws -> [String: Any] {
        try JSON.object(try Data(contentsOf: backupDir.appendingPathComponent(name + ".json")))
    }
}

/// Gives a suite one stack (no PostgreSQL behind it) for all its tests, stopped when the suite ends.
struct NginxStackTrait: SuiteTrait, TestScoping {
    var isRecursive: Bool { false }

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let stack = try NginxStack()
        defer { stack.stop() }
        try await SharedNginxStack.$current.withValue(stack) {
            try await function()
        }
    }
}

extension Trait where Self == NginxStackTrait {
    /// One nginx + pgbackup-fcgi stack, without a database, for the whole suite.
    static var nginxStack: Self { Self() }
}

enum SharedNginxStack {
    @TaskLocal static var current: NginxStack?

    static func require() throws -> NginxStack {
        guard let stack = current else { throw HarnessError.setup("this suite needs the .nginxStack trait") }
        return stack
    }
}
