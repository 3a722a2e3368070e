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

struct DeflateJob: Sendable {
    let sequence: Int
    let input: [UInt8]
    let dictionary: [UInt8]
    let last: Bool
}

struct DeflateResult: Sendable {
    let output: [UInt8]
    let crc: UInt
    let inputCount: Int
}

/// Worker threads, each with its own z_stream, and the hand-off between them and the writer.
final class DeflatePool: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [DeflateJob] = []
    private var results: [Int: Result<DeflateResult, GzipError>] = [:]
    private var stopping = false
    private var threads: [Thread] = []
    private var running = 0

    init(level: Int32, workers: Int, niceIncrement: Int32 = 0) throws {
        var streams: [DeflateStream] = []
        for _ in 0..<workers { streams.append(try DeflateStream(level: level)) }
        for stream in streams {
            let thread = Thread { [self] in
                if niceIncrement > 0 {
                    // Best effort: a thread may always lower its own priority.
                    let thread = gettid()
                    errno = 0
                    let current = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(thread))
                    if errno == 0 {
                        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(thread),
                                        min(current + niceIncrement, 19))
                    }
                }
                self.work(stream)
            }
            thread.name = "pgbackup-deflate"
            thread.stackSize = 1 << 20
            threads.append(thread)
        }
        running = workers
        threads.forEach { $0.start() }
    }

    func submit(_ job: DeflateJob) {
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    func result(for sequence: Int) throws -> DeflateResult {
        condition.lock()
        defer { condition.unlock() }
        while results[sequence] == nil { condition.wait() }
        let result = results.removeValue(forKey: sequence)
        switch result {
        case let .success(value)?: return value
        case let .failure(error)?: throw error
        case nil: throw GzipError.corrupt("missing block")
        }
    }

    /// Stops the workers and waits for them; safe to call more than once.
    func shutdown() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while running > 0 { condition.wait() }
        condition.unlock()
    }

    private func work(_ stream: DeflateStream) {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty {
                running -= 1
                condition.broadcast()
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            let outcome = Result { try stream.compress(job) }.mapError { $0 as? GzipError ?? .corrupt("\($0)") }
            condition.lock()
            results[job.sequence] = outcome
            condition.broadcast()
            condition.unlock()
        }
    }
}

/// One raw-deflate z_stream. It never moves (zlib keeps a pointer back to it), so it lives in allocated memory.
/// Used by exactly one worker thread after creation, hence unchecked.
final class DeflateStream: @unchecked Sendable {
    private let stream: UnsafeMutablePointer<z_stream>

    init(level: Int32) throws {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let code = deflateInit2_(stream, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, zlibVersion(),
                                 Int32(MemoryLayout<z_stream>.size))
        guard code == Z_OK else {
            stream.deallocate()
            throw GzipError.initFailed(code)
        }
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
    }

    func compress(_ job: DeflateJob) throws -> DeflateResult {
        guard deflateReset(stream) == Z_OK else { throw GzipError.initFailed(Z_STREAM_ERROR) }
        if !job.dictionary.isEmpty {
            let code = job.dictionary.withUnsafeBufferPointer {
                deflateSetDictionary(stream, $0.baseAddress, uInt($0.count))
            }
            guard code == Z_OK else { throw GzipError.initFailed(code) }
        }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(stream, uLong(job.input.count))) + 64)
        var produced = 0
        let flush = job.last ? Z_FINISH : Z_SYNC_FLUSH
        let crc: UInt = job.input.withUnsafeBufferPointer { input in
            crc32(0, input.baseAddress, uInt(input.count))
        }
        try job.input.withUnsafeBufferPointer { input in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
            stream.pointee.avail_in = uInt(input.count)
            while true {
                if produced == output.count { output.append(contentsOf: [UInt8](repeating: 0, count: 64 * 1024)) }
                let code: Int32 = output.withUnsafeMutableBufferPointer { out in
                    stream.pointee.next_out = out.baseAddress.map { $0 + produced }
                    stream.pointee.avail_out = uInt(out.count - produced)
                    let code = deflate(stream, flush)
                    produced = out.count - Int(stream.pointee.avail_out)
                    return code
                }
                if job.last {
                    if code == Z_STREAM_END { break }
                    guard code == Z_OK || code == Z_BUF_ERROR else { throw GzipError.corrupt("deflate failed (\(code))") }
                } else {
                    guard code == Z_OK || code == Z_BUF_ERROR else { throw GzipError.corrupt("deflate failed (\(code))") }
                    if stream.pointee.avail_in == 0 && stream.pointee.avail_out > 0 { break }
                }
            }
        }
        stream.pointee.next_in = nil
        stream.pointee.next_out = nil
        output.removeSubrange(produced...)
        return DeflateResult(output: output, crc: crc, inputCount: job.input.count)
    }
}
