/// Observes: how many bytes have passed.
final class ByteCountStage: ByteStage {
    private let next: ByteStage
    private(set) var count: Int64 = 0

    init(next: ByteStage) { self.next = next }

    func write(_ chunk: UnsafeRawBufferPointer) throws {
        count += Int64(chunk.count)
        try next.write(chunk)
    }

    func finish() throws { try next.finish() }
}
