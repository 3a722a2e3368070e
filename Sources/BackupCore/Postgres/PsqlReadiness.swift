import Foundation

/// Tells when psql has executed everything sent before a marker: the restore ends its input with
/// `\echo MARKER`, which psql prints only once every earlier statement has run, and sends `COMMIT;` only after
/// that. So COMMIT reaches psql when nothing else is left to run, and a signal before it can still stop psql
/// and roll back, however much of the dump was waiting in the pipe. psql's stdout is read on a thread of its
/// own (a dump's `SELECT set_config(…)` lines print there too), which owns and closes the descriptor.
final class PsqlReadiness: @unchecked Sendable {
    let marker: String
    private let condition = NSCondition()
    private var seen = false
    private var ended = false

    init(fd: Int32) {
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255) }
        marker = "pgbackup-ready-" + bytes.map { String(format: "%02x", $0) }.joined()
        let needle = Array(marker.utf8)
        // Only the drain thread touches `tail`: the last bytes seen, so a marker split across reads is found.
        nonisolated(unsafe) var tail: [UInt8] = []
        DescriptorDrain.start(fd: fd, threadName: "pgbackup-psql-out", chunk: { [self] bytes in
            tail.append(contentsOf: bytes)
            if Self.contains(tail, needle) { signal { seen = true } }
            if tail.count > needle.count { tail.removeFirst(tail.count - needle.count) }
        }, ended: { [self] in
            signal { ended = true }
        })
    }

    private func signal(_ change: () -> Void) {
        condition.lock()
        change()
        condition.broadcast()
        condition.unlock()
    }

    /// The psql meta-command that prints the marker.
    var command: [UInt8] { Array("\n\\echo \(marker)\n".utf8) }

    /// Waits until psql printed the marker (true) or its output ended without it (false: psql stopped).
    func wait() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while !seen && !ended { condition.wait() }
        return seen
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count else { return false }
        return (0...(haystack.count - needle.count)).contains { start in
            haystack[start..<(start + needle.count)].elementsEqual(needle)
        }
    }
}
