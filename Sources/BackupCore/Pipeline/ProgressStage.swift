/// Observes: reports the bytes that passed to a progress handler, at most twice a second (`ProgressThrottle`),
/// each time after the stages behind it took the chunk.
final class ProgressStage: ByteStage {
    private let next: ByteStage
    private var throttle: ProgressThrottle
    private var bytes: Int64 = 0

    init(phase: String, handler: ProgressHandler?, next: ByteStage) {
        self.next = next
        throttle = ProgressThrottle(phase: phase, handler: handler)
    }

    func write(_ chunk: UnsafeRawBufferPointer) throws {
        try next.write(chunk)
        bytes += Int64(chunk.count)
        throttle.report(bytes)
    }

    func finish() throws { try next.finish() }

    /// Reports the total now, however recent the last report (the end of a create).
    func reportNow() { throttle.report(bytes, force: true) }
}
