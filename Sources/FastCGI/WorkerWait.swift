import CFastCGI
import Glibc

/// How a worker waits for its next request without ever blocking inside `accept()`.
///
/// Each worker has its own epoll set holding the listening socket with `EPOLLEXCLUSIVE` and the
/// server's wake-up pipe. A new connection wakes one idle worker instead of all of them (a plain
/// `poll()` on a shared listener wakes every worker for every connection, each but one to find
/// `EAGAIN`); the wake-up pipe, level-triggered and never drained, wakes them all at a stop.
struct WorkerWait {
    enum Event: Equatable {
        /// The listener (or the kept connection) has something to read.
        case ready
        /// A stop was requested.
        case stop
        /// Nothing to do (an interrupted wait); wait again.
        case nothing
        case failed(errno: Int32)
    }

    private let epollFD: Int32
    private let listenFD: Int32
    private let wakeFD: Int32

    init(listenFD: Int32, wakeFD: Int32) throws {
        self.listenFD = listenFD
        self.wakeFD = wakeFD
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epollFD >= 0 else {
            throw FastCGIError.socketSetupFailed(operation: "epoll_create1()", path: "listener", errno: errno)
        }
        let listenEvents = EPOLLIN.rawValue | EPOLLEXCLUSIVE.rawValue
        guard add(listenFD, events: listenEvents), add(wakeFD, events: EPOLLIN.rawValue) else {
            let code = errno
            Glibc.close(epollFD)
            throw FastCGIError.socketSetupFailed(operation: "epoll_ctl()", path: "listener", errno: code)
        }
    }

    private func add(_ fd: Int32, events: UInt32) -> Bool {
        var event = epoll_event()
        event.events = events
        event.data.fd = fd
        return epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event) == 0
    }

    func close() {
        Glibc.close(epollFD)
    }

    /// Blocks until there is work or a stop. `connectionFD` is a connection nginx kept open
    /// (`fastcgi_keep_conn`), on which the next request arrives instead of through `accept()`.
    func next(connectionFD: Int32) -> Event {
        if connectionFD >= 0 {
            var fds = [pollfd(fd: connectionFD, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)]
            let count = poll(&fds, 2, -1)
            if count < 0 { return errno == EINTR ? .nothing : .failed(errno: errno) }
            if fds[1].revents != 0 { return .stop }
            return fds[0].revents != 0 ? .ready : .nothing
        }
        var events = [epoll_event](repeating: epoll_event(), count: 2)
        let count = epoll_wait(epollFD, &events, Int32(events.count), -1)
        if count < 0 { return errno == EINTR ? .nothing : .failed(errno: errno) }
        var ready = false
        for event in events.prefix(Int(count)) {
            if event.data.fd == wakeFD { return .stop }
            ready = true
        }
        return ready ? .ready : .nothing
    }

    /// While draining after a stop: is a connection (or a request on the kept one) waiting right now?
    /// A plain poll, because an exclusive epoll wake-up may have gone to another worker.
    func hasPendingWork(connectionFD: Int32) -> Bool {
        var fd = pollfd(fd: connectionFD >= 0 ? connectionFD : listenFD, events: Int16(POLLIN), revents: 0)
        return poll(&fd, 1, 0) > 0 && fd.revents != 0
    }
}
