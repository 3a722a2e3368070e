/// The end of a pipeline that hands each chunk to a closure (a download's bytes go to the FastCGI request). The
/// chunk is valid only during the call, as `ByteStage` says.
final class ClosureSink: ByteStage {
    private let body: (UnsafeRawBufferPointer) throws -> Void

    init(_ body: @escaping (UnsafeRawBufferPointer) throws -> Void) { self.body = body }

    func write(_ chunk: UnsafeRawBufferPointer) throws { try body(chunk) }
    func finish() throws {}
}
