import Foundation

/// SIGTERM, SIGINT and SIGHUP (systemd's stop, Ctrl-C, a closed terminal) in a process that runs one create or
/// restore: the CLI, the scheduler, an async job's process.
///
/// The signals are blocked in every thread and taken by one watcher thread with `sigwait`, so no code runs in
/// a signal handler. While no operation runs, a signal ends the process at once (128 + signal). While one runs,
/// the first signal stops its children (pg_dump, psql): the operation then fails as it would on any error (the
/// partial file removed, psql's input closed without COMMIT so the server rolls back), the failure reads
/// "interrupted by SIGTERM" and is recorded for `status`, and the front end exits 128 + signal. A second signal
/// during that clean-up ends the process at once. Once COMMIT has been sent, psql is left to finish: killing it
/// then could not tell whether the restore committed.
public final class Interruption: @unchecked Sendable {
    public static let shared = Interruption()
    static let signals: [Int32] = [SIGTERM, SIGINT, SIGHUP]

    private let lock = NSLock()
    private var received: Int32?
    private var operations: [String] = []
    private var children: Set<pid_t> = []
    private var committing = false
    private var cleaningUp = 0

    /// Blocks the signals and starts the watcher. Call first thing in `main`, before any thread exists, so
    /// every later thread inherits the mask (children get a clean one from `ChildProcess`).
    public func install() {
        var set = Self.signalSet()
        pthread_sigmask(SIG_BLOCK, &set, nil)
        let thread = Thread { Interruption.shared.watch() }
        thread.name = "pgbackup-signals"
        thread.start()
    }

    /// The signal that interrupted the running operation, if one did.
    public var signal: Int32? { lock.withLock { received } }

    /// Throws `interrupted` once a signal arrived; long loops without a child call it between blocks.
    func check(_ operation: String) throws {
        if let signal { throw BackupError.interrupted(operation: operation, signal: signal) }
    }

    /// Runs `body` as the process's interruptible operation; an error caused by the signal becomes `interrupted`.
    func during<T>(_ operation: String, _ body: () throws -> T) throws -> T {
        lock.withLock { operations.append(operation) }
        defer { lock.withLock { _ = operations.popLast() } }
        do {
            return try body()
        } catch {
            if let signal, (error as? BackupError)?.isInterruption != true {
                throw BackupError.interrupted(operation: operation, signal: signal)
            }
            throw error
        }
    }

    func register(_ pid: pid_t) {
        let stop = lock.withLock { () -> Bool in
            children.insert(pid)
            return received != nil && !committing && cleaningUp == 0
        }
        if stop { kill(pid, SIGTERM) }
    }

    /// Runs clean-up that needs children of its own (a drill dropping its scratch database) after a signal too:
    /// children it starts are not stopped as they start. A second signal still ends everything at once.
    func cleaningUp<T>(_ body: () throws -> T) rethrows -> T {
        lock.withLock { cleaningUp += 1 }
        defer { lock.withLock { cleaningUp -= 1 } }
        return try body()
    }

    func unregister(_ pid: pid_t) { lock.withLock { _ = children.remove(pid) } }

    /// Marks the moment COMMIT goes to psql: throws if a signal came first; from here on psql is not stopped.
    func enterCommit(_ operation: String) throws {
        let signal = lock.withLock { () -> Int32? in
            if received == nil { committing = true }
            return received
        }
        if let signal { throw BackupError.interrupted(operation: operation, signal: signal) }
    }

    func leaveCommit() { lock.withLock { committing = false } }

    private func watch() {
        var set = Self.signalSet()
        while true {
            var number: Int32 = 0
            guard sigwait(&set, &number) == 0 else { continue }
            arrived(number)
        }
    }

    private func arrived(_ number: Int32) {
        let name = Self.name(number)
        let (first, operation, targets) = lock.withLock { () -> (Bool, String?, [pid_t]) in
            let first = received == nil
            if first { received = number }
            return (first, operations.last, first && committing ? [] : Array(children))
        }
        guard first, let operation else {
            // Nothing to clean up, or a second signal: leave now. The kernel drops the lock with the process.
            targets.forEach { kill($0, SIGKILL) }
            let text = operation == nil ? "pgbackup: \(name): stopped\n"
                : "pgbackup: second \(name) during clean-up: exiting at once\n"
            _ = text.withCString { write(2, $0, strlen($0)) }
            _exit(128 + number)
        }
        targets.forEach { kill($0, SIGTERM) }
        let text = "pgbackup: \(name): stopping the \(operation) and cleaning up (send it again to exit at once)\n"
        _ = text.withCString { write(2, $0, strlen($0)) }
    }

    private static func signalSet() -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals { sigaddset(&set, signal) }
        return set
    }

    /// "SIGTERM", "SIGINT", "SIGHUP" (or "signal N").
    public static func name(_ number: Int32) -> String {
        switch number {
        case SIGTERM: "SIGTERM"
        case SIGINT: "SIGINT"
        case SIGHUP: "SIGHUP"
        default: "signal \(number)"
        }
    }
}
