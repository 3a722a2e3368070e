/// Passes on the first `limit` bytes and no more (a download's byte range). Once it has passed them it throws
/// `Reached`, so the source stops reading instead of going on to the end of a many-gigabyte dump; whoever started
/// the pump catches that and finishes the stage (`DownloadBody.send`).
final class ByteLimitStage: ByteStage {
    struct Reached: Error {}

    private let next: ByteStage
    private(set) var remaining: Int64

    init(limit: Int64, next: ByteStage) {
        precondition(limit >= 0, "a negative limit")
        remaining = limit
        self.next = next
    }

    func write(_ chunk: UnsafeRawBufferPointer) throws {
        let passed = UnsafeRawBufferPointer(rebasing: chunk.prefix(Int(min(Int64(chunk.count), remaining))))
        remaining -= Int64(passed.count)
        if !passed.isEmpty { try next.write(passed) }
        if remaining == 0 { throw Reached() }
    }

    func finish() throws { try next.finish() }
}
