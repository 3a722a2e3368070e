/// Observes a plain dump going by (`DumpTrailer`): its size, and at the end whether pg_dump finished it.
final class DumpTrailerStage: ByteStage {
    private let next: ByteStage
    private var trailer = DumpTrailer()

    init(next: ByteStage) { self.next = next }

    /// Bytes of dump seen so far.
    var byteCount: Int64 { trailer.byteCount }
    /// nil when the dump is complete, else what is missing (meaningful once the whole dump passed).
    var problem: String? { trailer.problem }

    func write(_ chunk: UnsafeRawBufferPointer) throws {
        trailer.consume(chunk)
        try next.write(chunk)
    }

    func finish() throws { try next.finish() }
}
