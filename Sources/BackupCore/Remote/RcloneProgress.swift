import Foundation

/// Turns rclone's one-second stats lines (`--use-json-log --stats 1s`: a JSON object with `stats.bytes`) on its
/// stderr into progress reports of phase "upload", like the dump's.
final class RcloneProgress: @unchecked Sendable {
    private let lock = NSLock()
    private var pending = [UInt8]()
    private var throttle: ProgressThrottle

    init(handler: ProgressHandler?) { throttle = ProgressThrottle(phase: "upload", handler: handler) }

    /// Called with each chunk of stderr, on the collector's thread.
    var observe: @Sendable (ArraySlice<UInt8>) -> Void { { [self] chunk in take(chunk) } }

    private func take(_ chunk: ArraySlice<UInt8>) {
        lock.lock()
        defer { lock.unlock() }
        pending.append(contentsOf: chunk)
        while let newline = pending.firstIndex(of: 0x0a) {
            let line = Array(pending[..<newline])
            pending.removeSubrange(...newline)
            if let bytes = (try? JSON.parse(line))?["stats"]?["bytes"]?.int64Value {
                throttle.report(bytes, force: true)
            }
        }
        if pending.count > 1 << 16 { pending.removeAll() }
    }
}
