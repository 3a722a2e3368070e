import Foundation
import Testing

/// Where the package's built executables are: next to the running test bundle, or PGBACKUP_BIN_DIR.
enum Paths {
    static var binaryDirectory: URL {
        if let override = ProcessInfo.processInfo.environment["PGBACKUP_BIN_DIR"], !override.isEmpty {
            return URL(fileURLWithPath: override)
        }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return executable.deletingLastPathComponent()
    }

    static var echo: String { binaryDirectory.appendingPathComponent("fcgi-echo").path }

    /// The package root, from this file's place in Tests/FastCGITests/Support/.
    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
    }

    static var localNginx: String { packageRoot.appendingPathComponent("nginx/local.sh").path }

    static func tool(_ name: String) throws -> String {
        for directory in ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"] {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw HarnessError("\(name) is not installed")
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

struct ProcessResult {
    var status: Int32
    var stdout: Data
    var stderr: String
    var output: String { String(decoding: stdout, as: UTF8.self) }
}

/// A child process whose output goes to files (never pipes: nothing can fill up and block it).
///
/// Spawned with posix_spawn and reaped with waitpid rather than Foundation.Process: Process learns that
/// a child exited when a socket the child inherited reaches EOF, then blocks its one manager thread in
/// waitpid. A child that closes inherited descriptors and lives on (systemd-socket-activate before it
/// execs the responder, a daemonising nginx) stalls exit detection for every other child.
final class ChildProcess {
    let executable: String
    let pid: pid_t
    let stdoutURL: URL
    let stderrURL: URL
    private let lock = NSLock()
    private var exitStatus: Int32?

    init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
         in directory: URL, name: String) throws {
        self.executable = executable
        stdoutURL = directory.appendingPathComponent("\(name).stdout")
        stderrURL = directory.appendingPathComponent("\(name).stderr")

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutURL.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrURL.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)

        // Children start with no blocked signals and default dispositions, whatever the test runner set.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        sigdelset(&allSignals, SIGKILL)
        sigdelset(&allSignals, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let environment = environment ?? ProcessInfo.processInfo.environment
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let status = posix_spawn(&child, executable, &actions, &attributes, argv, envp)
        guard status == 0 else {
            throw HarnessError("posix_spawn \(executable): \(String(cString: strerror(status)))")
        }
        pid = child
    }

    /// The exit status (128 + signal number when killed by a signal), or nil while running.
    private func poll() -> Int32? {
        lock.lock()
        defer { lock.unlock() }
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
        let signal = status & 0x7f
        exitStatus = signal == 0 ? (status >> 8) & 0xff : 128 + signal
        return exitStatus
    }

    var isRunning: Bool { poll() == nil }
    var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }
    var stdout: Data { (try? Data(contentsOf: stdoutURL)) ?? Data() }

    func signal(_ number: Int32) {
        if isRunning { kill(pid, number) }
    }

    /// Waits for the exit; nil if it is still running after `timeout` seconds.
    @discardableResult
    func wait(timeout: TimeInterval) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let status = poll() { return status }
            if Date() > deadline { return nil }
            usleep(20_000)
        }
    }

    /// Polls until `condition` holds; false after `timeout` seconds.
    static func eventually(timeout: TimeInterval, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() {
            if Date() > deadline { return false }
            usleep(20_000)
        }
        return true
    }

    func result(timeout: TimeInterval) throws -> ProcessResult {
        guard let status = wait(timeout: timeout) else {
            signal(SIGKILL)
            wait(timeout: 5)
            throw HarnessError("\(executable) did not finish in \(timeout) s")
        }
        return ProcessResult(status: status, stdout: stdout, stderr: stderr)
    }

    /// Terminates (then kills) the process if it is still running.
    func stop() {
        guard isRunning else { return }
        signal(SIGTERM)
        if wait(timeout: 10) == nil {
            signal(SIGKILL)
            wait(timeout: 5)
        }
    }
}

/// A scratch directory that nginx's workers (www-data when the tests run as root) can traverse.
final class ScratchDirectory {
    let url: URL

    init() throws {
        var template = Array("/tmp/fcgi-tests-XXXXXX".utf8CString)
        guard let created = mkdtemp(&template) else { throw HarnessError("mkdtemp failed") }
        url = URL(fileURLWithPath: String(cString: created))
        chmod(url.path, 0o711)
    }

    var path: String { url.path }

    func subdirectory(_ name: String, mode: mode_t = 0o711) throws -> URL {
        let directory = url.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        chmod(directory.path, mode)
        return directory
    }

    func remove() {
        try? FileManager.default.removeItem(at: url)
    }
}

/// A loopback TCP port nobody listens on right now.
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw HarnessError("socket() failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw HarnessError("bind() failed") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard named == 0 else { throw HarnessError("getsockname() failed") }
    return Int(UInt16(bigEndian: address.sin_port))
}

var runningAsRoot: Bool { geteuid() == 0 }

/// The bytes fcgi-echo's stream endpoint sends: byte i is i % 251.
func streamPattern(count: Int) -> [UInt8] {
    (0..<count).map { UInt8($0 % 251) }
}

/// fcgi-echo's body checksum (FNV-1a, 64 bit, lower-case hex).
func fnv1a(_ bytes: [UInt8]) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes {
        hash ^= UInt64(byte)
        hash = hash &* 0x0000_0100_0000_01B3
    }
    return String(hash, radix: 16)
}
