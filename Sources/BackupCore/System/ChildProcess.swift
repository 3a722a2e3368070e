import CSystem
import Foundation

/// A started child process; failing to start one is a `SystemError`. Its stderr is collected on a thread of its
/// own (bounded to the last 64 KiB) so a chatty child can never block on a full pipe.
public final class ChildProcess: @unchecked Sendable {
    public enum Input { case null, pipe }
    public enum Output { case null, pipe }

    public let pid: pid_t
    /// Write end of the child's stdin, when `.pipe` was asked for. Close it to send EOF.
    public private(set) var stdin: Int32?
    /// Read end of the child's stdout, when `.pipe` was asked for.
    public private(set) var stdout: Int32?
    private let stderrCollector: StderrCollector
    private var exitStatus: Int32?

    /// Starts `command`. File descriptors other than 0–2 are never inherited. `stoppedBySignals: false` keeps it
    /// out of `Interruption`'s reach: the notification telling someone a backup was interrupted must get out
    /// (it is bounded by its own timeout; a second signal still ends everything at once). `stderrObserver` also
    /// sees each chunk of stderr as it arrives (on the collector's thread): rclone's progress lines.
    public init(_ command: Command, stdin stdinMode: Input = .null, stdout stdoutMode: Output = .null, newSession: Bool = false,
                stoppedBySignals: Bool = true, stderrObserver: (@Sendable (ArraySlice<UInt8>) -> Void)? = nil) throws {
        let path = try ChildProcess.resolve(command.executable, path: command.environment["PATH"])
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }

        var toClose: [Int32] = []
        var parentStdin: Int32?
        var parentStdout: Int32?
        defer { toClose.forEach { close($0) } }

        switch stdinMode {
        case .null:
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        case .pipe:
            let (read, write) = try ChildProcess.makePipe()
            posix_spawn_file_actions_adddup2(&actions, read, 0)
            toClose.append(read)
            parentStdin = write
        }
        switch stdoutMode {
        case .null:
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        case .pipe:
            let (read, write) = try ChildProcess.makePipe()
            posix_spawn_file_actions_adddup2(&actions, write, 1)
            toClose.append(write)
            parentStdout = read
        }
        let (errRead, errWrite) = try ChildProcess.makePipe()
        posix_spawn_file_actions_adddup2(&actions, errWrite, 2)
        toClose.append(errWrite)
        // Descriptors we do not know about (libfcgi's sockets, say) must not reach the child either.
        posix_spawn_file_actions_addclosefrom_np(&actions, 3)

        ChildProcess.setSignalsAndSession(&attributes, newSession: newSession)

        let argv = ([path] + command.arguments).map { strdup($0) } + [nil]
        let envp = command.environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let code = posix_spawn(&child, path, &actions, &attributes, argv, envp)
        guard code == 0 else {
            [parentStdin, parentStdout, errRead].compactMap { $0 }.forEach { close($0) }
            throw SystemError(.spawn, path: command.executable, code: code)
        }
        pid = child
        // A SIGTERM to pgbackup must reach its children: the watcher stops every registered one.
        if stoppedBySignals { Interruption.shared.register(child) }
        stdin = parentStdin
        stdout = parentStdout
        stderrCollector = StderrCollector(fd: errRead, observer: stderrObserver)
    }

    /// The child starts with default signal handling and nothing blocked, whatever we ignore (SIGPIPE), and
    /// optionally in a session of its own.
    private static func setSignalsAndSession(_ attributes: inout posix_spawnattr_t, newSession: Bool) {
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var flags = Int32(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)
        if newSession { flags |= Int32(PGB_POSIX_SPAWN_SETSID) }
        posix_spawnattr_setflags(&attributes, Int16(flags))
    }

    deinit {
        if let fd = stdin { close(fd) }
        if let fd = stdout { close(fd) }
    }

    public func closeStdin() {
        if let fd = stdin { close(fd) }
        stdin = nil
    }

    /// Hands the read end of stdout over to the caller, who closes it.
    func takeStdout() -> Int32? {
        defer { stdout = nil }
        return stdout
    }

    public func closeStdout() {
        if let fd = stdout { close(fd) }
        stdout = nil
    }

    public func signal(_ signal: Int32) { if exitStatus == nil { kill(pid, signal) } }

    /// Waits for the child; returns its exit code, or 128 + signal number when a signal ended it.
    @discardableResult
    public func wait() -> Int32 {
        if let status = exitStatus { return status }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let low = status & 0x7f
        let result = low == 0 ? (status >> 8) & 0xff : 128 + low
        Interruption.shared.unregister(pid)
        exitStatus = result
        return result
    }

    /// "exited with status 3" or "was killed by signal 9 (Killed)", for messages.
    public static func describe(_ status: Int32) -> String {
        status > 128 ? "was killed by signal \(status - 128) (\(String(cString: strsignal(status - 128))))"
            : "exited with status \(status)"
    }

    /// What the child wrote to stderr (the last 64 KiB), once it closed stderr.
    public func stderrText() -> String { stderrCollector.text() }

    /// Deepens a pipe to 1 MiB, so the process at the other end runs ahead while this one hands blocks out or
    /// writes; best effort (the default 64 KiB only costs some overlap).
    static func enlargePipe(_ fd: Int32) { _ = fcntl(fd, PGB_F_SETPIPE_SZ, 1 << 20) }

    static func makePipe() throws -> (Int32, Int32) {
        var fds: [Int32] = [0, 0]
        guard pipe2(&fds, O_CLOEXEC) == 0 else {
            throw SystemError(.pipe, path: "pipe")
        }
        return (fds[0], fds[1])
    }

    static func resolve(_ executable: String, path: String?) throws -> String {
        if executable.contains("/") { return executable }
        for dir in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(dir)/\(executable)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        throw SystemError(.findProgram, path: executable, problem: "not found in PATH")
    }

    /// Runs a short command to completion and returns its status, stdout and stderr.
    public static func run(_ command: Command) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = try ChildProcess(command, stdout: .pipe)
        var collected = [UInt8]()
        if let fd = process.stdout {
            var buffer = [UInt8](repeating: 0, count: 16 * 1024)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count > 0 { collected.append(contentsOf: buffer[0..<count]); continue }
                if count < 0 && errno == EINTR { continue }
                break
            }
        }
        process.closeStdout()
        let status = process.wait()
        return (status, String(decoding: collected, as: UTF8.self), process.stderrText())
    }
}
