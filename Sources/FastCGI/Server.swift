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

    private let listener: Listener
    private let configuration: Configuration
    private let handler: @Sendable (Request) -> Void

    /// Guards every `var` below.
    private let condition = NSCondition()
    private var started = false
    private var stopping = false
    private var liveWorkers = 0
    private var inFlight = 0
    /// Requests running on threads of their own; `run()` waits for them as for workers.
    private var handOffs = 0
    private var lastActivity = ContinuousClock.now
    private var failure: FastCGIError?
    private var socket: ListeningSocket?
    private var wakeWriteFD: Int32 = -1

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

    private static func wake(_ fd: Int32) {
        var byte: UInt8 = 1
        _ = Glibc.write(fd, &byte, 1)  // never read: the pipe stays readable for every worker
    }

    // MARK: - Workers

    /// Whether `fd` is a unix-domain socket (then closing a connection at once loses nothing; see `Request`).
    static func isUnixSocket(_ fd: Int32) -> Bool {
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return named == 0 && Int32(address.ss_family) == AF_UNIX
    }

    private func workerLoop(listenFD: Int32, wakeFD: Int32, drainsQueue: Bool, lingers: Bool) {
        var request = UnsafeMutablePointer<FCGX_Request>.allocate(capacity: 1)
        FCGX_InitRequest(request, listenFD, 0)
        defer {
            // A connection nginx kept open (fastcgi_keep_conn) is closed here; streams are already freed.
            if request.pointee.ipcFd >= 0 { FCGX_Free(request, 1) }
            request.deallocate()
            workerExited()
        }

        let waiter: WorkerWait
        do {
            waiter = try WorkerWait(listenFD: listenFD, wakeFD: wakeFD)
        } catch {
            fail(error as? FastCGIError ?? .acceptFailed(errno: errno))
            return
        }
        defer { waiter.close() }

        var draining = false
        while true {
            let connection = request.pointee.ipcFd
            if draining {
                guard waiter.hasPendingWork(connectionFD: connection) else { return }
            } else {
                switch waiter.next(connectionFD: connection) {
                case .ready:
                    break
                case .nothing:
                    continue
                case .stop:
                    guard drainsQueue else { return }
                    draining = true
                    continue
                case .failed(let code):
                    fail(.acceptFailed(errno: code))
                    return
                }
            }

            let code = FCGX_Accept_r(request)
            if code < 0 {
                let error = code == -9999 ? 0 : -code
                if draining && (error == EAGAIN || error == EWOULDBLOCK) { return }
                switch Self.classifyAcceptError(error) {
                case .retry:
                    continue
                case .backOff:
                    configuration.report("accept failed (\(String(cString: strerror(error)))); retrying")
                    usleep(100_000)
                    continue
                case .fatal:
                    fail(.acceptFailed(errno: error))
                    return
                }
            }
            if serve(request, lingers: lingers) {
                // The request (and its FCGX_Request, which must not move) now belongs to its own thread.
                request = UnsafeMutablePointer<FCGX_Request>.allocate(capacity: 1)
                FCGX_InitRequest(request, listenFD, 0)
            }
        }
    }

    /// Returns true when the handler handed the request to a thread of its own.
    private func serve(_ raw: UnsafeMutablePointer<FCGX_Request>, lingers: Bool) -> Bool {
        condition.lock()
        inFlight += 1
        condition.unlock()

        let request = Request(raw: raw, lingers: lingers)
        request.admitHandOff = { [self] in reserveHandOff() }
        handler(request)
        if let body = request.handedOff {
            startHandOff(request, raw: raw, body: body)
            return true
        }
        finished(request)
        return false
    }

    private func reserveHandOff() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard handOffs < configuration.maxHandOffs else { return false }
        handOffs += 1
        return true
    }

    private func startHandOff(_ request: Request, raw: UnsafeMutablePointer<FCGX_Request>,
                              body: @escaping @Sendable (Request) -> Void) {
        let owned = OwnedRequest(raw)
        let thread = Thread { [self] in
            body(request)
            finished(request)
            if owned.raw.pointee.ipcFd >= 0 { FCGX_Free(owned.raw, 1) }
            owned.raw.deallocate()
            condition.lock()
            handOffs -= 1
            condition.broadcast()
            condition.unlock()
        }
        thread.name = "fastcgi-stream"
        thread.start()
    }

    private func finished(_ request: Request) {
        if !request.complete() {
            configuration.report(
                "the handler returned without responding to \(request.method) \(request.requestURI); sent 500")
        }

        condition.lock()
        inFlight -= 1
        lastActivity = .now
        // Only the idle clock in waitForWorkers cares; don't wake that thread on every request otherwise.
        if inFlight == 0 && configuration.idleTimeout != nil { condition.broadcast() }
        condition.unlock()
    }

    /// An `FCGX_Request` on its way to the thread that finishes it (the pointer itself is not Sendable).
    private final class OwnedRequest: @unchecked Sendable {
        let raw: UnsafeMutablePointer<FCGX_Request>
        init(_ raw: UnsafeMutablePointer<FCGX_Request>) { self.raw = raw }
    }

    enum AcceptErrorKind: Equatable { case retry, backOff, fatal }

    /// Which accept failures are worth another try. Losing the race for a connection (`EAGAIN`) and a
    /// connection reset before we took it are routine; running out of descriptors or memory may pass;
    /// anything else (a closed or invalid listener) will not.
    static func classifyAcceptError(_ error: Int32) -> AcceptErrorKind {
        switch error {
        case EAGAIN, EWOULDBLOCK, EINTR, ECONNABORTED, ECONNRESET, EPROTO:
            return .retry
        case 0, EMFILE, ENFILE, ENOBUFS, ENOMEM:
            return .backOff
        default:
            return .fatal
        }
    }

    private func fail(_ error: FastCGIError) {
        condition.lock()
        if failure == nil { failure = error }
        condition.unlock()
        configuration.report(error.description)
        stop(reason: error.description)
    }

    private func workerExited() {
        condition.lock()
        liveWorkers -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// Joins the workers; meanwhile enforces the idle timeout.
    private func waitForWorkers() {
        condition.lock()
        while liveWorkers > 0 || handOffs > 0 {
            guard let idleTimeout = configuration.idleTimeout, !stopping, inFlight == 0 else {
                condition.wait()
                continue
            }
            let idleFor = ContinuousClock.now - lastActivity
            if idleFor >= idleTimeout {
                condition.unlock()
                stop(reason: "no request for \(idleTimeout)")
                condition.lock()
                continue
            }
            _ = condition.wait(until: Date(timeIntervalSinceNow: Self.seconds(idleTimeout - idleFor)))
        }
        condition.unlock()
    }

    private static func seconds(_ duration: Duration) -> TimeInterval {
        let parts = duration.components
        return TimeInterval(parts.seconds) + TimeInterval(parts.attoseconds) / 1e18
    }

    private func installSignalSources() -> [DispatchSourceSignal] {
        let queue = DispatchQueue(label: "fastcgi.signals")
        return [SIGTERM, SIGINT].map { number in
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { [weak self] in
                self?.stop(reason: number == SIGTERM ? "SIGTERM" : "SIGINT")
            }
            source.resume()
            return source
        }
    }
}

/// Process-wide signal dispositions around libfcgi.
enum SignalSetup {
    private static let initialisation = Mutex()

    /// Runs `FCGX_Init` without letting it keep the handlers it installs over default dispositions
    /// (SIGTERM and SIGUSR1 would only set its shutdown flag, so an idle process no longer stops, and
    /// its accept then fails for ever), and ignores SIGPIPE so a client that went away is an error
    /// code on write, not the death of the process.
    static func initialiseLibrary() throws {
        let code: Int32 = initialisation.withLock {
            let watched = [SIGTERM, SIGINT, SIGUSR1, SIGHUP, SIGPIPE]
            var saved: [Int32: sigaction] = [:]
            for number in watched {
                var action = sigaction()
                sigaction(number, nil, &action)
                saved[number] = action
            }
            let code = FCGX_Init()
            for (number, action) in saved {
                var previous = action
                sigaction(number, &previous, nil)
            }
            signal(SIGPIPE, SIG_IGN)
            return code
        }
        guard code == 0 else { throw FastCGIError.libraryInitFailed(code: code) }
    }

    /// A DispatchSource receives the signal only once the default action (termination) is out of the way.
    static func ignoreTermination() {
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
    }

    /// After `run()` a second SIGTERM terminates the process as usual.
    static func restoreTermination() {
        signal(SIGTERM, SIG_DFL)
        signal(SIGINT, SIG_DFL)
    }
}

/// A small lock for process-wide one-time work.
final class Mutex: @unchecked Sendable {
    private let lock = NSLock()

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}
