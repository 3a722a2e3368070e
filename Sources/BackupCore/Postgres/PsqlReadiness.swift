import Foundation

/// Tells when psql has executed everything sent before a marker: the restore ends its input with
/// `\echo MARKER`, which psql prints only once every earlier statement has run, and sends `COMMIT;` only after
/// that. So COMMIT reaches psql when nothing else is left to run, and a signal before it can still stop psql
/// and roll back, however much of the dump was waiting in the pipe. psql's stdout is read on a thread of its
/// own (a dump's `SELECT set_config(…)` lines print there too), which owns and closes the descriptor.
///
/// A parallel load sends the marker again at each of its barriers, as a query (`query`: psql refuses `\echo`
/// between the dump's `\restrict` and `\unrestrict`), and waits for the n-th one (`wait(count:)`).
final class PsqlReadiness: @unchecked Sendable {
    let marker: String
    private let condition = NSCondition()
    private var seen = 0
    private var ended = false
    private var observer: (@Sendable () -> Void)?

    init(fd: Int32) {
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255) }
        marker = "pgbackup-ready-" + bytes.map { String(format: "%02x", $0) }.joined()
        let needle = Array(marker.utf8)
        // Only the drain thread touches `tail`: the last bytes seen, so a marker split across reads is found.
        nonisolated(unsafe) var tail: [UInt8] = []
        DescriptorDrain.start(fd: fd, threadName: "pgbackup-psql-out", chunk: { [self] bytes in
            tail.append(contentsOf: bytes)
            let found = Self.count(&tail, needle)
            if found > 0 { signal { seen += found } }
        }, ended: { [self] in
            signal { ended = true }
        })
    }

    private func signal(_ change: () -> Void) {
        condition.lock()
        change()
        condition.broadcast()
        let observer = observer
        condition.unlock()
        observer?()
    }

    /// Called (on the drain thread) after each marker psql prints and when its output ends: a parallel load waits
    /// on one signal for all its lanes.
    func observe(_ observer: @escaping @Sendable () -> Void) {
        condition.lock()
        self.observer = observer
        condition.unlock()
    }

    /// The markers printed so far, and whether psql's output ended; without waiting.
    var progress: (seen: Int, ended: Bool) {
        condition.lock()
        defer { condition.unlock() }
        return (seen, ended)
    }

    /// The psql meta-command that prints the marker.
    var command: [UInt8] { Array("\n\\echo \(marker)\n".utf8) }

    /// The SQL statement whose one-row answer prints the marker: it runs in restricted mode too.
    var query: [UInt8] { Array("\nSELECT '\(marker)' AS pgbackup_ready;\n".utf8) }

    /// Waits until psql printed the marker (true) or its output ended without it (false: psql stopped).
    func wait() -> Bool { wait(count: 1) }

    /// Waits until psql printed the marker `count` times in all (true), or its output ended first (false).
    func wait(count: Int) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while seen < count && !ended { condition.wait() }
        return seen >= count
    }

    /// How many whole markers `tail` holds; what follows the last one is kept, cut to less than a marker's length.
    static func count(_ tail: inout [UInt8], _ needle: [UInt8]) -> Int {
        var found = 0
        var start = 0
        while tail.count - start >= needle.count {
            if tail[start..<(start + needle.count)].elementsEqual(needle) {
                found += 1
                start += needle.count
            } else {
                start += 1
            }
        }
        let keep = min(tail.count - start, needle.count - 1)
        tail.removeFirst(tail.count - keep)
        return found
    }
}
