/// The end of a pipeline that keeps only the first `limit` bytes, then stops the pipeline by throwing `Full` (the
/// dump header lies in the first few hundred bytes of a many-gigabyte dump).
final class PrefixSink: ByteStage {
    struct Full: Error {}

    private let limit: Int
    private(set) var bytes: [UInt8] = []

    init(limit: Int) { self.limit = limit }

    func write(_ chunk: UnsafeRawBufferPointer) throws {
        bytes.append(contentsOf: chunk.prefix(limit - bytes.count))
        if bytes.count >= limit { throw Full() }
    }

    func finish() throws {}
}
