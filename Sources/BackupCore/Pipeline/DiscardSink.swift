/// The end of a pipeline whose bytes are only checked on their way (verify): keeps nothing.
final class DiscardSink: ByteStage {
    func write(_ chunk: UnsafeRawBufferPointer) throws {}
    func finish() throws {}
}
