/// One step of a byte pipeline (pgBackRest's `IoFilter` is the model): it is handed chunks in order, then
/// `finish()` once. A transforming stage (a codec, later encryption) writes its output to the next stage and
/// finishes it from its own `finish()`; an observing stage (a hash, a byte count, the dump-trailer scan,
/// progress) passes its input on unchanged. A chunk is valid only during the call.
protocol ByteStage: AnyObject {
    func write(_ chunk: UnsafeRawBufferPointer) throws
    func finish() throws
}
