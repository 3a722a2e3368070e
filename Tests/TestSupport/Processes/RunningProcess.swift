import Foundation

/// A running child whose stdout and stderr come back through pipes, each drained by its own thread from the
/// start, so a child that fills one pipe while we read the other never blocks (PITFALLS: pipe deadlock). It can
/// be signalled, and waited for with a deadline.
///
/// Pipes suit a command that ends with its output; a daemon-starting command whose daemon inherits the pipes
/// keeps them open (the wait for output is bounded, then gives up): run those as a `LoggedProcess`.
package final class RunningProcess: @unchecked Sendable {
    package let executable: String
    package let pid: pid_t
    private let stdoutBytes = Collected()
    private let stderrBytes = Collected()
    private let exit: ChildExit
    private let lock = NSLock()
    private var killedByTimeout = false

    /// The minimal environment every child starts from; tests add what they need on top.
    package static func baseEnvironment(home: String = NSTemporaryDirectory()) -> [String: String] {
        [
            "PATH": ProcessRunner.standardPath,
            "HOME": home,
            "LANG": "C.UTF-8",
        ]
    }

    /// Writing to a child that has gone away must give EPIPE, not kill the test process.
    private static let ignoreSIGPIPE: Void = { _ = Glibc.signal(SIGPIPE, SIG_IGN) }()

    package init(_ executable: String, _ arguments: [String], environment: [String: String], stdin: Data? = nil) throws {
        _ = Self.ignoreSIGPIPE
        self.executable = executable
        let outPipe = try Self.makePipe()
        let errPipe = try Self.makePipe()
        // Never the test runner's own stdin: a child must not find a terminal there.
        let inPipe = stdin == nil ? nil : try Self.makePipe()
        let spawned: pid_t
        do {
            spawned = try ProcessSpawn.start(
                executable, arguments, environment: environment,
                stdin: inPipe.map { .descriptor($0.read) } ?? .devNull,
                stdout: .descriptor(outPipe.write), stderr: .descriptor(errPipe.write))
        } catch {
            for fd in [outPipe.read, outPipe.write, errPipe.read, errPipe.write, inPipe?.read, inPipe?.write] {
                if let fd { close(fd) }
            }
            throw error
        }
        for fd in [inPipe?.read, outPipe.write, errPipe.write] { if let fd { close(fd) } }
        pid = spawned
        exit = ChildExit(pid: spawned)

        let stdoutBytes = self.stdoutBytes
        let stderrBytes = self.stderrBytes
        Thread { stdoutBytes.finish(Self.readAll(outPipe.read)) }.start()
        Thread { stderrBytes.finish(Self.readAll(errPipe.read)) }.start()
        if let stdin, let fd = inPipe?.write {
            Thread {
                Self.writeAll(stdin, to: fd)
                close(fd)
            }.start()
        }
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
    package func signal(_ signal: Int32 = SIGTERM) { exit.send(signal) }

    package var isRunning: Bool { exit.isRunning }

    /// Waits for the child; after `timeout` it is killed with SIGKILL and the result says so.
    package func wait(timeout: Duration = .seconds(120)) -> ProcessResult {
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        if !exit.wait(seconds: seconds) {
            lock.withLock { killedByTimeout = true }
            signal(SIGKILL)
            exit.wait()
        }
        // A grandchild that inherited the pipes could hold them open; don't hang on it forever.
        let drainDeadline = DispatchTime.now() + 10
        let out = stdoutBytes.wait(until: drainDeadline)
        let err = stderrBytes.wait(until: drainDeadline)
        return ProcessResult(
            status: exit.status ?? -1, signal: exit.signal, stdout: out, stderr: err,
            timedOut: lock.withLock { killedByTimeout })
    }
}

/// Thread-safe accumulator for one pipe's bytes.
private final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    func finish(_ bytes: Data) {
        lock.withLock { data = bytes }
        done.signal()
    }

    func wait(until deadline: DispatchTime) -> Data {
        if done.wait(timeout: deadline) == .success { done.signal() }  // a second wait returns at once
        return lock.withLock { data }
    }
}
