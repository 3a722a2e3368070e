import Foundation

/// The lanes of a parallel load: one psql session each on the new database. No psql starves while another is
/// slow: every session's input pipe is non-blocking and what a psql cannot take yet waits in its lane's queue,
/// handed on with poll(2) to whichever psql reads next. A queue past `busyLimit` makes the splitter move rows on
/// to another lane (`isBusy`, `pickLane` waits while every lane is busy); past `queueLimit` a send waits. So memory
/// stays at about `queueLimit` per lane however big the dump, and the pipes give backpressure.
///
/// A psql that stops (its error, with ON_ERROR_STOP) closes its pipe: the next poll sees it, `failedLane` says
/// which, and every later call throws; the caller stops all sessions and reports that psql's message.
final class PsqlLanes: LoadLanes {
    static let busyLimit = 1 << 20
    static let queueLimit = 2 << 20
    let sessions: [PsqlSession]
    private var queues: [[UInt8]]
    /// Bytes at the front of each queue already written.
    private var written: [Int]
    /// Marks sent to each lane (barriers and `mark`), and the signal its readiness gives at each one it prints.
    private var marks: [Int]
    private let progress = DispatchSemaphore(value: 0)
    private var nextPick = 0
    private var lastKick: UInt64 = 0
    private static let kickInterval: UInt64 = 5_000_000
    /// A wait that wrote less than this sleeps a little before it polls again, so psql drains more of its pipe
    /// and the next write is bigger (a page at a time costs a syscall and a wake-up per 4 KiB).
    private static let smallRound = 256 << 10
    /// The lane whose psql stopped first: its stderr says why the load failed.
    private(set) var failedLane: Int?

    var count: Int { sessions.count }

    /// Writes each session's queued preamble, then makes its pipe non-blocking.
    init(_ sessions: [PsqlSession]) throws {
        self.sessions = sessions
        queues = Array(repeating: [], count: sessions.count)
        written = Array(repeating: 0, count: sessions.count)
        marks = Array(repeating: 0, count: sessions.count)
        for (lane, session) in sessions.enumerated() {
            session.readiness.observe { [progress] in progress.signal() }
            guard let fd = session.child.stdin else { throw stopped(lane) }
            do { try session.input.flush() } catch { throw stopped(lane) }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
    }

    func queued(_ lane: Int) -> Int { queues[lane].count - written[lane] }

    func send(_ bytes: UnsafeRawBufferPointer, to lane: Int) throws {
        if let failedLane { throw stopped(failedLane) }
        queues[lane].append(contentsOf: bytes)
        if queued(lane) >= Self.queueLimit { try pump { self.queued(lane) < Self.busyLimit } }
    }

    func isBusy(_ lane: Int, adding pending: Int) -> Bool { queued(lane) + pending >= Self.busyLimit }

    /// The least busy lane (ties in turn), once one has room.
    func pickLane() -> Int {
        do {
            try pump { (0..<self.count).contains { self.queued($0) < Self.busyLimit } }
        } catch {
            // The failure is kept in `failedLane`: the next send throws it.
        }
        var best = nextPick
        for step in 0..<count {
            let lane = (nextPick + step) % count
            if queued(lane) < queued(best) { best = lane }
        }
        nextPick = (best + 1) % count
        return best
    }

    /// At most one poll every `kickInterval`: rows arrive in many small input chunks, and each psql has its
    /// pipe (1 MiB) to work on meanwhile.
    func kick() throws {
        let now = DispatchTime.now().uptimeNanoseconds
        guard now - lastKick >= Self.kickInterval else { return }
        lastKick = now
        _ = try writeReady(timeout: 0)
    }

    /// Every lane gets the readiness query; returns once each printed it (so it ran all sent before).
    func barrier() throws {
        for lane in 0..<count { _ = try mark(lane) }
        try pump { (0..<self.count).allSatisfy { self.queued($0) == 0 } }
        for (lane, session) in sessions.enumerated() where !session.readiness.wait(count: marks[lane]) {
            failedLane = failedLane ?? lane
            throw stopped(lane)
        }
    }

    func mark(_ lane: Int) throws -> Int {
        if let failedLane { throw stopped(failedLane) }
        queues[lane].append(contentsOf: sessions[lane].readiness.query)
        marks[lane] += 1
        return marks[lane]
    }

    func reached(_ lane: Int, mark: Int) -> Bool { sessions[lane].readiness.progress.seen >= mark }

    func waitForProgress() throws {
        try pump { (0..<self.count).allSatisfy { self.queued($0) == 0 } }
        for lane in 0..<count {
            let (seen, ended) = sessions[lane].readiness.progress
            if ended && seen < marks[lane] { throw stopped(lane) }
        }
        try Interruption.shared.check("restore")
        _ = progress.wait(timeout: .now() + 1)
    }

    /// Writes until `done`; waits in poll(2) (a second at a time, so a signal is noticed) while it is not.
    private func pump(until done: () -> Bool) throws {
        while !done() {
            try Interruption.shared.check("restore")
            if try writeReady(timeout: 1000) < Self.smallRound, !done() { usleep(2_000) }
        }
    }

    /// One poll over every lane: writes what each ready pipe takes (the bytes written); a pipe whose psql is gone
    /// fails the load.
    @discardableResult
    private func writeReady(timeout: Int32) throws -> Int {
        if let failedLane { throw stopped(failedLane) }
        var fds = sessions.enumerated().map { lane, session in
            pollfd(fd: session.child.stdin ?? -1, events: queued(lane) > 0 ? Int16(POLLOUT) : 0, revents: 0)
        }
        let ready = poll(&fds, nfds_t(fds.count), timeout)
        if ready < 0 {
            if errno == EINTR { return 0 }
            throw BackupError.restoreFailed("poll on psql's input failed: \(String(cString: strerror(errno)))")
        }
        var total = 0
        for lane in fds.indices where fds[lane].revents != 0 {
            if fds[lane].revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0 { throw stopped(lane) }
            total += try write(lane, fd: fds[lane].fd)
        }
        return total
    }

    private func write(_ lane: Int, fd: Int32) throws -> Int {
        let count = queued(lane)
        guard count > 0 else { return 0 }
        let result = queues[lane].withUnsafeBytes { bytes in
            Glibc.write(fd, bytes.baseAddress.map { $0 + written[lane] }, count)
        }
        if result < 0 {
            if errno == EAGAIN || errno == EINTR { return 0 }
            throw stopped(lane)
        }
        written[lane] += result
        if written[lane] == queues[lane].count {
            queues[lane].removeAll(keepingCapacity: true)
            written[lane] = 0
        } else if written[lane] >= Self.busyLimit {
            queues[lane].removeFirst(written[lane])
            written[lane] = 0
        }
        return result
    }

    /// Marks `lane` as the one that failed (unless another did first) and returns the error to throw.
    private func stopped(_ lane: Int) -> Error {
        failedLane = failedLane ?? lane
        return BackupError.restoreFailed("psql of lane \(failedLane ?? lane) stopped")
    }
}
