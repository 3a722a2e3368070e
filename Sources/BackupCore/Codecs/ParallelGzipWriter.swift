import CSystem
import CZlib
import Foundation

/// A pigz-style gzip encoder: input is cut into blocks that worker threads deflate in parallel, each primed with
/// the previous block's last 32 KiB so the ratio matches single-threaded gzip, and the results are written in
/// order as ONE standard gzip member (header, deflate blocks joined at byte boundaries, combined CRC-32, size).
///
/// `write` and `finish` are called from one thread, which also runs `sink`; the queue of blocks in flight is
/// bounded, so memory stays flat whatever the input size.
public final class ParallelGzipWriter {
    public typealias Sink = (UnsafeRawBufferPointer) throws -> Void

    private let sink: Sink
    private let blockSize: Int
    private let maxInFlight: Int
    private let pool: DeflatePool

    private var current: [UInt8] = []
    private var previousTail: [UInt8] = []
    private var nextSequence = 0
    private var nextToWrite = 0
    private var crc: UInt = 0
    private var started = false
    private var finished = false

    /// Bytes handed to `write` so far.
    public private(set) var uncompressedBytes: Int64 = 0
    /// Bytes passed to the sink so far.
    public private(set) var compressedBytes: Int64 = 0

    /// - Parameters:
    ///   - level: gzip level 1–9.
    ///   - workers: deflate threads (default: one per core).
    ///   - blockSize: bytes per block (at least 64 KiB).
    ///   - niceIncrement: added to the deflate threads' nice value (Linux applies it per thread), so other work
    ///     on the machine goes first when it wants the CPU; 0 leaves them as they are.
    ///   - sink: receives the compressed stream in order.
    public init(level: Int, workers: Int = ProcessInfo.processInfo.activeProcessorCount, blockSize: Int = 1 << 20,
                niceIncrement: Int32 = 0, sink: @escaping Sink) throws {
        self.sink = sink
        self.blockSize = max(blockSize, 64 * 1024)
        let workerCount = max(1, min(workers, 16))
        self.maxInFlight = workerCount * 2 + 1
        self.pool = try DeflatePool(level: Int32(min(max(level, 1), 9)), workers: workerCount,
                                    niceIncrement: niceIncrement)
        current.reserveCapacity(self.blockSize)
    }

    deinit { pool.shutdown() }

    public func write(_ data: UnsafeRawBufferPointer) throws {
        precondition(!finished, "write after finish")
        var offset = 0
        while offset < data.count {
            let take = min(blockSize - current.count, data.count - offset)
            current.append(contentsOf: data[offset..<(offset + take)])
            offset += take
            uncompressedBytes += Int64(take)
            if current.count == blockSize { try submit(last: false) }
        }
    }

    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Compresses what is left, writes the gzip trailer and stops the workers.
    public func finish() throws {
        precondition(!finished, "finish called twice")
        try submit(last: true)
        while nextToWrite < nextSequence { try drainOne() }
        var trailer = [UInt8]()
        let isize = UInt32(truncatingIfNeeded: uncompressedBytes)
        for value in [UInt32(truncatingIfNeeded: crc), isize] {
            for shift in stride(from: 0, to: 32, by: 8) { trailer.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
        }
        try emit(trailer)
        finished = true
        pool.shutdown()
    }

    private func emit(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try sink($0) }
        compressedBytes += Int64(bytes.count)
    }

    private func submit(last: Bool) throws {
        if !started {
            started = true
            // Magic, deflate, no flags, mtime 0, no extra flags, OS = Unix.
            try emit([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x03])
        }
        while nextSequence - nextToWrite >= maxInFlight { try drainOne() }
        let block = current
        let dictionary = previousTail
        previousTail = block.count >= 32 * 1024 ? Array(block.suffix(32 * 1024)) : Array((previousTail + block).suffix(32 * 1024))
        current = []
        current.reserveCapacity(blockSize)
        pool.submit(DeflateJob(sequence: nextSequence, input: block, dictionary: dictionary, last: last))
        nextSequence += 1
    }

    private func drainOne() throws {
        let result = try pool.result(for: nextToWrite)
        crc = result.inputCount == 0 ? crc : crc32_combine(crc, result.crc, Int(result.inputCount))
        try emit(result.output)
        nextToWrite += 1
    }
}
