import Foundation

/// Reaps one child on a thread of its own (waitpid on that pid only) and remembers how it ended.
package final class ChildExit: @unchecked Sendable {
    private let pid: pid_t
    private let exited = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var rawStatus: Int32?

    package init(pid: pid_t) {
        self.pid = pid
        Thread { [self] in
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            lock.withLock { rawStatus = status }
            exited.signal()
        }.start()
    }

    package var isRunning: Bool { lock.withLock { rawStatus == nil } }

    /// The exit code, or 128 + the signal number when a signal ended the child; nil while it runs.
    package var status: Int32? {
        lock.withLock { rawStatus }.map { raw in
            let signal = raw & 0x7F
            return signal == 0 ? (raw >> 8) & 0xFF : 128 + signal
        }
    }

    /// The signal that ended the child, if one did.
    package var signal: Int32? {
        lock.withLock { rawStatus }.flatMap { raw in raw & 0x7F == 0 ? nil : raw & 0x7F }
    }

    /// Sends `number` unless the child has been reaped (its pid may belong to someone else by then).
    package func send(_ number: Int32) {
        lock.withLock { if rawStatus == nil { kill(pid, number) } }
    }

    /// Waits up to `seconds` for the exit; true once the child has exited.
    @discardableResult
    package func wait(seconds: Double) -> Bool {
        guard exited.wait(timeout: .now() + seconds) == .success else { return false }
        exited.signal()  // later waits return at once
        return true
    }

    /// Waits for as long as it takes.
    package func wait() {
        exited.wait()
        exited.signal()
    }
}
