import CZstd
import Foundation

/// zstd through libzstd's streaming API, multithreaded by libzstd itself (`ZSTD_c_nbWorkers`), with the frame
/// content checksum on so `zstd -t` and every decoder check the data. The whole input is one frame.
///
/// libzstd's worker threads come from a pool this stage creates, on a thread whose nice value is raised first,
/// so the workers inherit it. `write` and `finish` are called from one thread, which also runs `next`.
final class ZstdEncodeStage: ByteStage {
    /// Input per libzstd job. Its own choice at level 3 (8 MiB) cost 51 MB of RSS with two workers on a 304 MB
    /// dump; 2 MiB cost 15 MB, with the same size and CPU time. libzstd raises it where a level's window needs.
    static let defaultJobSize = 2 << 20
    /// Levels 3 and 4 are libzstd's "dfast" levels, which look for matches of 5 bytes and more. On the benchmark's
    /// 631 MiB dump, 6 bytes made level 3's output 0.789 × `gzip -6`'s instead of 0.824 (84.9 → 81.3 MB) for no more
    /// CPU; on 106 MB of C headers and text it cost 1.5 % (0.70 × gzip -6 either way). A larger window (27) gained
    /// 0.2 % for 730 MB of RSS, long-distance matching lost 0.3 %. Decoders need nothing: `zstd -dc` reads it.
    static let dfastLevels = 3...4
    static let dfastMinMatch: Int32 = 6

    private let next: ByteStage
    private let context: OpaquePointer
    private let pool: OpaquePointer?
    private var output = [UInt8](repeating: 0, count: ZSTD_CStreamOutSize())
    private var finished = false

    /// Bytes handed to `write` so far.
    private(set) var uncompressedBytes: Int64 = 0
    /// Bytes written to `next` so far.
    private(set) var compressedBytes: Int64 = 0

    /// - Parameters:
    ///   - level: zstd level 1–19.
    ///   - workers: libzstd's compression threads (default: one per core); 0 compresses on the caller's thread.
    ///   - niceIncrement: added to the compression threads' nice value, so other work goes first; 0 leaves it.
    ///   - jobSize: input bytes per libzstd job when multithreaded (0: libzstd's choice).
    init(level: Int, workers: Int = ProcessInfo.processInfo.activeProcessorCount, niceIncrement: Int32 = 0,
         jobSize: Int = ZstdEncodeStage.defaultJobSize, next: ByteStage) throws {
        guard Codec.zstd.levels.contains(level) else { throw CodecError.levelOutOfRange(.zstd, level) }
        guard let context = ZSTD_createCCtx() else { throw CodecError.initFailed(.zstd, "out of memory") }
        let workerCount = min(max(workers, 0), 16)
        self.next = next
        self.context = context
        pool = workerCount > 0 ? Self.makePool(workers: workerCount, niceIncrement: niceIncrement) : nil
        try setParameter(ZSTD_c_compressionLevel, Int32(level))
        try setParameter(ZSTD_c_checksumFlag, 1)
        if Self.dfastLevels.contains(level) { try setParameter(ZSTD_c_minMatch, Self.dfastMinMatch) }
        if let pool {
            try Self.check(ZSTD_CCtx_refThreadPool(context, pool), failure: CodecError.initFailed)
            try setParameter(ZSTD_c_nbWorkers, Int32(workerCount))
            if jobSize > 0 { try setParameter(ZSTD_c_jobSize, Int32(jobSize)) }
        }
    }

    deinit {
        // The context uses the pool, so it goes first.
        ZSTD_freeCCtx(context)
        if let pool { ZSTD_freeThreadPool(pool) }
    }

    func write(_ chunk: UnsafeRawBufferPointer) throws {
        precondition(!finished, "write after finish")
        guard chunk.count > 0 else { return }
        uncompressedBytes += Int64(chunk.count)
        try compress(chunk, directive: ZSTD_e_continue)
    }

    /// Ends the frame (its checksum included), then finishes `next`.
    func finish() throws {
        precondition(!finished, "finish called twice")
        finished = true
        try compress(UnsafeRawBufferPointer(start: nil, count: 0), directive: ZSTD_e_end)
        try next.finish()
    }

    /// Hands `chunk` to libzstd and writes whatever it gives back; with `ZSTD_e_end`, until the frame is out.
    private func compress(_ chunk: UnsafeRawBufferPointer, directive: ZSTD_EndDirective) throws {
        var input = ZSTD_inBuffer(src: chunk.baseAddress, size: chunk.count, pos: 0)
        while true {
            let (remaining, produced) = output.withUnsafeMutableBytes { buffer in
                var out = ZSTD_outBuffer(dst: buffer.baseAddress, size: buffer.count, pos: 0)
                let remaining = ZSTD_compressStream2(context, &out, &input, directive)
                return (remaining, out.pos)
            }
            try Self.check(remaining, failure: CodecError.compressFailed)
            if produced > 0 {
                try output.withUnsafeBytes { try next.write(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) }
                compressedBytes += Int64(produced)
            }
            // e_continue is done once the input is taken; e_end once libzstd has nothing left to flush.
            let done = directive == ZSTD_e_end ? remaining == 0 : input.pos == input.size
            if done { return }
        }
    }

    private func setParameter(_ parameter: ZSTD_cParameter, _ value: Int32) throws {
        try Self.check(ZSTD_CCtx_setParameter(context, parameter, value), failure: CodecError.initFailed)
    }

    private static func check(_ code: Int, failure: (Codec, String) -> CodecError) throws {
        if ZSTD_isError(code) != 0 { throw failure(.zstd, String(cString: ZSTD_getErrorName(code))) }
    }

    /// libzstd starts every worker inside `ZSTD_createThreadPool`; created on a thread that lowered its own
    /// priority, they inherit it. nil (no pool) lets libzstd make its own, at normal priority.
    private static func makePool(workers: Int, niceIncrement: Int32) -> OpaquePointer? {
        guard niceIncrement > 0 else { return ZSTD_createThreadPool(workers) }
        let made = PoolHandOff()
        let thread = Thread {
            WorkerPriority.lowerCurrentThread(by: niceIncrement)
            made.pool = ZSTD_createThreadPool(workers)
            made.done.signal()
        }
        thread.name = "pgbackup-zstd-start"
        thread.start()
        made.done.wait()
        return made.pool
    }
}

/// Carries the pool from the thread that made it; `done` orders the write before the read.
private final class PoolHandOff: @unchecked Sendable {
    var pool: OpaquePointer?
    let done = DispatchSemaphore(value: 0)
}
