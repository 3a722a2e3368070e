import Foundation

/// Thread-safe accumulator for one pipe's bytes.
private final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    func finish(_ bytes: Data) {
        lock.lock()
        data = bytes
        lock.unlock()
        done.signal()
    }

    func wait(until deadline: DispatchTime) -> Data {
        _ = done.wait(timeout: deadline)
        lock.lock()
        defer { lock.unlock() }
        return data
    }
}

/// A child process that is running: it can be signalled, and waited for with a deadline.
///
/// Built on posix_spawn + waitpid rather than Foundation.Process: Process on Linux learns of a child's
/// exit through a descriptor the child inherits, so a daemon started by the child (pg_ctl starts the
/// postmaster) keeps it open and the wait never ends. Here every descriptor we create is close-on-exec;
/// the child gets exactly stdin, stdout and stderr. stdout and stderr are each drained by their own
/// thread from the start, so a child that fills one pipe while we read the other never blocks
/// (PITFALLS: pipe deadlock).
final class RunningProcess: @unchecked Sendable {
    let executable: String
    let pid: pid_t
    private let stdoutBytes = Collected()
    private let stderrBytes = Collected()
    private let exited = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var rawStatus: Int32 = 0
    private var hasExited = false
    private var killedByTimeout = false

    /// The minimal environment every child starts from; tests add what they need on top.
    static func baseEnvironment(home: String = NSTemporaryDirectory()) -> [String: String] {
        [
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": home,
            "LANG": "C.UTF-8",
        ]
    }

    /// Writing to a child that has gone away must give EPIPE, not kill the test process.
    private static let ignoreSIGPIPE: Void = { _ = Glibc.signal(SIGPIPE, SIG_IGN) }()

    init(_ executable: String, _ arguments: [String], environment: [String: String], stdin: Data? = nil) throws {
        _ = Self.ignoreSIGPIPE
        self.executable = executable
        let outPipe = try Self.makePipe()
        let errPipe = try Self.makePipe()
        let inPipe: (read: Int32, write: Int32)
        if stdin != nil {
            inPipe = try Self.makePipe()
        } else {
            // Never the test runner's own stdin: a child must not find a terminal there.
            let devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
            guard devNull >= 0 else { throw HarnessError.setup("open /dev/null: errno \(errno)") }
            inPipe = (devNull, -1)
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // dup2 clears close-on-exec on the copy, so only 0, 1 and 2 survive the exec.
        posix_spawn_file_actions_adddup2(&actions, inPipe.read, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe.write, 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe.write, 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for number in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGQUIT, SIGUSR1, SIGUSR2] { sigaddset(&defaults, number) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let rc = posix_spawn(&child, executable, &actions, &attributes, argv, envp)
        for fd in [inPipe.read, outPipe.write, errPipe.write] { close(fd) }
        guard rc == 0 else {
            for fd in [inPipe.write, outPipe.read, errPipe.read] where fd >= 0 { close(fd) }
            throw ProcessRunnerError.cannotStart(executable, rc)
        }
        pid = child
        let spawned = child

        let stdoutBytes = self.stdoutBytes
        let stderrBytes = self.stderrBytes
        Thread { stdoutBytes.finish(Self.readAll(outPipe.read)) }.start()
        Thread { stderrBytes.finish(Self.readAll(errPipe.read)) }.start()
        if let stdin {
            let fd = inPipe.write
            Thread {
                Self.writeAll(stdin, to: fd)
                close(fd)
            }.start()
        }
        Thread { [self] in
            var status: Int32 = 0
            while waitpid(spawned, &status, 0) < 0 && errno == EINTR {}
            lock.lock()
            rawStatus = status
            hasExited = true
            lock.unlock()
            exited.signal()
        }.start()
    }

    private static func makePipe() throws -> (read: Int32, write: Int32) {
        // pipe2 is not imported from Glibc; a spawn on another thread between these calls could inherit
        // the pipe, which would only delay EOF until that child exits (the wait below is bounded).
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw HarnessError.setup("pipe: errno \(errno)") }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return (fds[0], fds[1])
    }

    private static func readAll(_ fd: Int32) -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count > 0 {
                data.append(contentsOf: buffer[0..<count])
            } else if count < 0 && errno == EINTR {
                continue
            } else {
                break
            }
        }
        close(fd)
        return data
    }

    private static func writeAll(_ data: Data, to fd: Int32) {
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = write(fd, raw.baseAddress.map { $0 + offset }, raw.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    return  // EPIPE: the child stopped reading; that is its business
                }
            }
        }
    }

    /// Sends a signal (SIGTERM by default) to the child, unless it has already been reaped.
    func signal(_ signal: Int32 = SIGTERM) {
        lock.lock()
        defer { lock.unlock() }
        if !hasExited { kill(pid, signal) }
    }

    var isRunning: Bool {
        lock.lock()
        defer { lock.unlock() }
        return !hasExited
    }

    /// Waits for the child; after `timeout` it is killed with SIGKILL and the result says so.
    func wait(timeout: Duration = .seconds(120)) -> ProcessResult {
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        if exited.wait(timeout: .now() + seconds) == .timedOut {
            lock.lock()
            killedByTimeout = true
            lock.unlock()
            signal(SIGKILL)
            exited.wait()
        }
        exited.signal()  // later calls to wait() return at once
        // A grandchild that inherited the pipes could hold them open; don't hang on it forever.
        let drainDeadline = DispatchTime.now() + 10
        let out = stdoutBytes.wait(until: drainDeadline)
        let err = stderrBytes.wait(until: drainDeadline)
        lock.lock()
        defer { lock.unlock() }
        let status = rawStatus
        let signalNumber = status & 0x7F
        return ProcessResult(
            status: signalNumber == 0 ? (status >> 8) & 0xFF : 128 + signalNumber,
            signal: signalNumber == 0 ? nil : signalNumber,
            stdout: out, stderr: err, timedOut: killedByTimeout)
    }
}

enum ProcessRunner {
    /// Runs `executable` to completion (or until `timeout`, then kills it).
    static func run(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String] = RunningProcess.baseEnvironment(),
        stdin: Data? = nil,
        timeout: Duration = .seconds(120)
    ) throws -> ProcessResult {
        try RunningProcess(executable, arguments, environment: environment, stdin: stdin).wait(timeout: timeout)
    }

    /// Finds a program on the base PATH, e.g. `psql`, so children are started by absolute path.
    static func which(_ name: String) -> String? {
        let path = RunningProcess.baseEnvironment()["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Like `which`, but also looks in Debian's versioned PostgreSQL directories (initdb and pg_ctl are
    /// not on PATH there), newest version first; a missing tool is a setup error that names it.
    static func tool(_ name: String) throws -> String {
        if let path = which(name) { return path }
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
            .sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }
        for version in versions {
            let candidate = "\(root)/\(version)/bin/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw HarnessError.missingTool(name)
    }
}
