/// The end of a pipeline that keeps everything in memory: only for small outputs (the gzip-encoded list body).
final class MemorySink: ByteStage {
    private(set) var bytes: [UInt8] = []

    func write(_ chunk: UnsafeRawBufferPointer) throws { bytes.append(contentsOf: chunk) }
    func finish() throws {}
}
