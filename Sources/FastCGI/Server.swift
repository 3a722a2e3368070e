import CFastCGI
import Dispatch
import Foundation
import Glibc

/// A pool of worker threads answering FastCGI requests with one handler.
///
/// Each worker owns one `FCGX_Request`, allocated once so it never moves (its streams point back at it),
/// and waits (see `WorkerWait`) on the listening socket and a wake-up pipe. The listener is
/// non-blocking, so workers accept concurrently without libfcgi's accept mutex: one that loses a race
/// gets `EAGAIN` and waits again. Nobody ever blocks inside `accept()`, which is what makes stopping clean:
///
/// - `stop()` (or SIGTERM/SIGINT, or the idle timeout) writes to the wake-up pipe; each worker finishes
///   the request it is serving and exits; `run()` joins them and returns.
/// - A socket we bound ourselves is unlinked at once (new connections fail fast at nginx) and the
///   connections already queued on it are still served before the workers exit.
/// - An inherited socket is left exactly as it was: not `shutdown()` (for systemd's socket that would
///   break the unit's socket for every later activation) and not drained (systemd starts us again for
///   connections still queued, which is what socket activation is for).
/// - `FCGX_ShutdownPending()` is not used: it makes libfcgi's accept fail at once, which would break
///   the drain, and the wake-up pipe already does its job.
public final class Server: @unchecked Sendable {
    public struct Configuration: Sendable {
        /// Worker threads; each serves one request at a time.
        public var workerCount: Int
        /// Stop after this long without a request (for socket activation); nil never stops for idleness.
        public var idleTimeout: Duration?
        /// Treat SIGTERM and SIGINT as a graceful stop. Turn off when embedding the server in a process
        /// that handles signals itself.
        public var handlesSignals: Bool
        /// Requests that may run on threads of their own at once (`Request.continueOnOwnThread`).
        public var maxHandOffs: Int
        /// Receives one line per notable event (listening, stopping, accept failures, handler mistakes).
        public var report: @Sendable (String) -> Void

        public init(
            workerCount: Int = 4,
            maxHandOffs: Int = 16,
            idleTimeout: Duration? = nil,
            handlesSignals: Bool = true,
            report: @escaping @Sendable (String) -> Void = { _ in }
        ) {
            self.workerCount = max(1, workerCount)
            self.maxHandOffs = max(0, maxHandOffs)
            self.idleTimeout = idleTimeout
            self.handlesSignals = handlesSignals
            self.report = report
        }
    }

    let listener: Listener
    let configuration: Configuration
    let handler: @Sendable (Request) -> Void

    /// Guards every `var` below.
    let condition = NSCondition()
    var started = false
    var stopping = false
    var liveWorkers = 0
    var inFlight = 0
    /// Requests running on threads of their own; `run()` waits for them as for workers.
    var handOffs = 0
    var lastActivity = ContinuousClock.now
    var failure: FastCGIError?
    var socket: ListeningSocket?
    var wakeWriteFD: Int32 = -1

    public init(
        listener: Listener,
        configuration: Configuration = Configuration(),
        handler: @escaping @Sendable (Request) -> Void
    ) {
        self.listener = listener
        self.configuration = configuration
        self.handler = handler
    }

    /// Opens the listener, serves until stopped, and returns once every in-flight request is done.
    /// Throws listener errors (before serving anything) and non-retryable accept failures (after a
    /// graceful stop). Call it once.
    public func run() throws {
        condition.lock()
        let alreadyRan = started || stopping
        started = true
        condition.unlock()
        if alreadyRan { return }

        try SignalSetup.initialiseLibrary()
        if configuration.handlesSignals { SignalSetup.ignoreTermination() }
        defer { if configuration.handlesSignals { SignalSetup.restoreTermination() } }

        let (socket, wakePipe) = try openSocketAndWakePipe()
        let signalSources = configuration.handlesSignals ? installSignalSources() : []

        let workerCount = configuration.workerCount
        condition.lock()
        self.socket = socket
        wakeWriteFD = wakePipe[1]
        lastActivity = .now
        liveWorkers = workerCount
        if stopping { Self.wake(wakePipe[1]) }  // stop() came while we were setting up
        condition.unlock()

        configuration.report("listening on \(socket.description) with \(workerCount) workers")
        let listenFD = socket.fd
        let wakeReadFD = wakePipe[0]
        let drainsQueue = socket.ownedPath != nil
        let lingers = !Self.isUnixSocket(listenFD)
        for index in 0..<workerCount {
            let thread = Thread { [self] in
                self.workerLoop(listenFD: listenFD, wakeFD: wakeReadFD, drainsQueue: drainsQueue, lingers: lingers)
            }
            thread.name = "fastcgi-worker-\(index)"
            thread.start()
        }

        waitForWorkers()

        for source in signalSources { source.cancel() }
        condition.lock()
        self.socket = nil
        wakeWriteFD = -1
        let failure = self.failure
        condition.unlock()
        socket.close()
        close(wakePipe[0])
        close(wakePipe[1])
        configuration.report("stopped")
        if let failure { throw failure }
    }

    /// Asks for a graceful stop; safe from any thread, any number of times, before or during `run()`.
    public func stop() {
        stop(reason: "stop requested")
    }

    func stop(reason: String) {
        condition.lock()
        guard !stopping else {
            condition.unlock()
            return
        }
        stopping = true
        let socket = self.socket
        condition.unlock()
        // Unlink and report before waking the workers, so "stopping" is always reported before "stopped".
        socket?.unlinkOwnedPath()
        configuration.report("stopping: \(reason)")
        condition.lock()
        if wakeWriteFD >= 0 { Self.wake(wakeWriteFD) }
        condition.broadcast()
        condition.unlock()
    }

    /// The listening socket, made non-blocking, and the wake-up pipe.
    private func openSocketAndWakePipe() throws -> (ListeningSocket, [Int32]) {
        let socket = try listener.open()
        let flags = fcntl(socket.fd, F_GETFL)
        guard flags >= 0, fcntl(socket.fd, F_SETFL, flags | O_NONBLOCK) == 0 else {
            let code = errno
            socket.close()
            throw FastCGIError.socketSetupFailed(operation: "fcntl(O_NONBLOCK)", path: socket.description, errno: code)
        }
        var wakePipe: [Int32] = [-1, -1]
        guard Self.makeWakePipe(&wakePipe) else {
            let code = errno
            socket.close()
            throw FastCGIError.socketSetupFailed(operation: "pipe2()", path: socket.description, errno: code)
        }
        return (socket, wakePipe)
    }

    /// A close-on-exec, non-blocking pipe (Glibc's `pipe2` is not visible to Swift without _GNU_SOURCE).
    private static func makeWakePipe(_ fds: inout [Int32]) -> Bool {
        guard pipe(&fds) == 0 else { return false }
        for fd in fds {
            let descriptorFlags = fcntl(fd, F_GETFD)
            let statusFlags = fcntl(fd, F_GETFL)
            guard descriptorFlags >= 0, statusFlags >= 0,
                fcntl(fd, F_SETFD, descriptorFlags | FD_CLOEXEC) == 0,
                fcntl(fd, F_SETFL, statusFlags | O_NONBLOCK) == 0
            else {
                let code = errno
                close(fds[0])
                close(fds[1])
                errno = code
                return false
            }
        }
        return true
    }

    static func wake(_ fd: Int32) {
        var byte: UInt8 = 1
        _ = Glibc.write(fd, &byte, 1)  // never read: the pipe stays readable for every worker
    }
}
