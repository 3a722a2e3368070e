/// The streaming zlib `GzipDecoder` as a stage: reads every gzip file (one member or many, the old tool's
/// included), checking each member's CRC and length. Its failures are `GzipError`s, passed on unchanged.
final class GzipDecodeStage: ByteStage {
    private let next: ByteStage
    private let decoder: GzipDecoder
    private var finished = false

    /// Compressed bytes handed to `write` so far.
    private(set) var compressedBytes: Int64 = 0
    /// Decoded bytes written to `next` so far.
    private(set) var uncompressedBytes: Int64 = 0

    init(next: ByteStage) throws {
        self.next = next
        decoder = try GzipDecoder()
    }

    func write(_ chunk: UnsafeRawBufferPointer) throws {
        precondition(!finished, "write after finish")
        compressedBytes += Int64(chunk.count)
        try decoder.feed(chunk) { plain in
            try next.write(plain)
            uncompressedBytes += Int64(plain.count)
        }
    }

    /// Fails if there was no member or the last one is incomplete; then finishes `next`.
    func finish() throws {
        precondition(!finished, "finish called twice")
        finished = true
        try decoder.finish()
        try next.finish()
    }
}
