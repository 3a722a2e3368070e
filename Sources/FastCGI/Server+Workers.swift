import CFastCGI
import Dispatch
import Foundation
import Glibc

/// The worker threads of a `Server`: wait, accept, serve or hand off, and the idle and stop bookkeeping.
extension Server {
    /// Whether `fd` is a unix-domain socket (then closing a connection at once loses nothing; see `Request`).
    static func isUnixSocket(_ fd: Int32) -> Bool {
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return named == 0 && Int32(address.ss_family) == AF_UNIX
    }

    func workerLoop(listenFD: Int32, wakeFD: Int32, drainsQueue: Bool, lingers: Bool) {
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
                guard waitsAgain(afterAcceptFailure: code, draining: draining) else { return }
                continue
            }
            if serve(request, lingers: lingers) {
                // The request (and its FCGX_Request, which must not move) now belongs to its own thread.
                request = UnsafeMutablePointer<FCGX_Request>.allocate(capacity: 1)
                FCGX_InitRequest(request, listenFD, 0)
            }
        }
    }

    /// After `FCGX_Accept_r` returned `code` (< 0): true when the worker should wait again, false when it exits.
    private func waitsAgain(afterAcceptFailure code: Int32, draining: Bool) -> Bool {
        let error = code == -9999 ? 0 : -code
        if draining && (error == EAGAIN || error == EWOULDBLOCK) { return false }
        switch Self.classifyAcceptError(error) {
        case .retry:
            return true
        case .backOff:
            configuration.report("accept failed (\(String(cString: strerror(error)))); retrying")
            usleep(100_000)
            return true
        case .fatal:
            fail(.acceptFailed(errno: error))
            return false
        }
    }

    /// Returns true when the handler handed the request to a thread of its own.
    func serve(_ raw: UnsafeMutablePointer<FCGX_Request>, lingers: Bool) -> Bool {
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

    func reserveHandOff() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard handOffs < configuration.maxHandOffs else { return false }
        handOffs += 1
        return true
    }

    func startHandOff(_ request: Request, raw: UnsafeMutablePointer<FCGX_Request>,
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

    func finished(_ request: Request) {
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

    func fail(_ error: FastCGIError) {
        condition.lock()
        if failure == nil { failure = error }
        condition.unlock()
        configuration.report(error.description)
        stop(reason: error.description)
    }

    func workerExited() {
        condition.lock()
        liveWorkers -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// Joins the workers; meanwhile enforces the idle timeout.
    func waitForWorkers() {
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

    func installSignalSources() -> [DispatchSourceSignal] {
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
