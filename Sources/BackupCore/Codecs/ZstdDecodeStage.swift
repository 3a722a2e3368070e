import CZstd

/// A streaming zstd decoder that checks every frame's content checksum and accepts several frames in a row
/// (like `zstd -d`). It rejects an input that ends inside a frame, and anything after the last frame that is
/// not another frame.
final class ZstdDecodeStage: ByteStage {
    private let next: ByteStage
    private let context: OpaquePointer
    private var output = [UInt8](repeating: 0, count: ZSTD_DStreamOutSize())
    private var sawInput = false
    private var frameComplete = false
    private var finished = false

    /// Compressed bytes handed to `write` so far.
    private(set) var compressedBytes: Int64 = 0
    /// Decoded bytes written to `next` so far.
    private(set) var uncompressedBytes: Int64 = 0

    init(next: ByteStage) throws {
        guard let context = ZSTD_createDCtx() else { throw CodecError.initFailed(.zstd, "out of memory") }
        self.next = next
        self.context = context
    }

    deinit { ZSTD_freeDCtx(context) }

    func write(_ chunk: UnsafeRawBufferPointer) throws {
        precondition(!finished, "write after finish")
        guard chunk.count > 0 else { return }
        compressedBytes += Int64(chunk.count)
        var input = ZSTD_inBuffer(src: chunk.baseAddress, size: chunk.count, pos: 0)
        var outputFull = false
        // Keep going while input remains, or while the last call filled the buffer (libzstd may hold more).
        while input.pos < input.size || outputFull {
            let (code, produced) = output.withUnsafeMutableBytes { buffer in
                var out = ZSTD_outBuffer(dst: buffer.baseAddress, size: buffer.count, pos: 0)
                let code = ZSTD_decompressStream(context, &out, &input)
                return (code, out.pos)
            }
            if ZSTD_isError(code) != 0 { throw failure(code) }
            sawInput = true
            frameComplete = code == 0
            // 0 means the frame is decoded and flushed: another call now would start reading a next frame.
            outputFull = produced == output.count && !frameComplete
            if produced > 0 {
                try output.withUnsafeBytes { try next.write(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) }
                uncompressedBytes += Int64(produced)
            }
        }
    }

    /// Fails if there was no frame or the last one is incomplete; then finishes `next`.
    func finish() throws {
        precondition(!finished, "finish called twice")
        finished = true
        guard sawInput, frameComplete else { throw CodecError.truncated(.zstd) }
        try next.finish()
    }

    private func failure(_ code: Int) -> CodecError {
        switch ZSTD_getErrorCode(code) {
        case ZSTD_error_checksum_wrong: return .checksumMismatch(.zstd)
        // A frame ended and what follows is not the start of another one.
        case ZSTD_error_prefix_unknown where frameComplete: return .trailingGarbage(.zstd)
        default: return .corrupt(.zstd, String(cString: ZSTD_getErrorName(code)))
        }
    }
}
