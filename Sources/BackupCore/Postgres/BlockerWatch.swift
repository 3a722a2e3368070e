import Foundation

/// Looks, on its own thread and connection, for the sessions a running restore waits for. A lock wait that
/// reaches `lock_timeout` lasts the whole timeout, so looking every quarter of it sees every such wait at least
/// three times, at a cost of one short query per look (every 75 s with the default 300 s).
final class BlockerWatch: @unchecked Sendable {
    private let condition = NSCondition()
    private var stopped = false
    private var seen: [DatabaseSession] = []

    init(tools: PostgresTools, database: String) {
        let interval = min(30, max(0.25, Double(tools.lockWaitTimeoutSeconds) / 4))
        Thread.detachNewThread { [self] in
            while waitOrStop(interval) {
                let blockers = tools.blockingSessions(database: database)
                condition.lock()
                if !blockers.isEmpty { seen = blockers }
                condition.unlock()
            }
        }
    }

    /// Waits `interval` seconds; false once `stop()` was called.
    private func waitOrStop(_ interval: Double) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(interval)
        while !stopped, condition.wait(until: deadline) {}
        return !stopped
    }

    /// Stops looking and returns the blockers seen last.
    func stop() -> [DatabaseSession] {
        condition.lock()
        defer { condition.unlock() }
        stopped = true
        condition.broadcast()
        return seen
    }
}
