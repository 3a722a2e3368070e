import Foundation

/// Worker threads, each with its own libdeflate compressor, and the hand-off between them and the stage:
/// blocks go in numbered, compressed members come out by number.
final class GzipMemberPool: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [(sequence: Int, input: [UInt8])] = []
    private var results: [Int: Result<[UInt8], CodecError>] = [:]
    private var stopping = false
    private var running = 0

    /// - Parameter niceIncrement: added to each worker thread's nice value (see `WorkerPriority`).
    init(level: Int, workers: Int, niceIncrement: Int32) throws {
        let compressors = try (0..<workers).map { _ in try GzipMemberCompressor(level: level) }
        let threads = compressors.map { compressor in
            let thread = Thread { [self] in
                WorkerPriority.lowerCurrentThread(by: niceIncrement)
                work(compressor)
            }
            thread.name = "pgbackup-deflate"
            thread.stackSize = 1 << 20
            return thread
        }
        running = threads.count
        threads.forEach { $0.start() }
    }

    func submit(sequence: Int, input: [UInt8]) {
        condition.lock()
        jobs.append((sequence, input))
        condition.signal()
        condition.unlock()
    }

    /// Waits for the member of block `sequence` and takes it out of the pool.
    func member(for sequence: Int) throws -> [UInt8] {
        condition.lock()
        defer { condition.unlock() }
        while results[sequence] == nil { condition.wait() }
        switch results.removeValue(forKey: sequence) {
        case let .success(member)?: return member
        case let .failure(error)?: throw error
        case nil: throw CodecError.compressFailed(.gzip, "block \(sequence) went missing")
        }
    }

    /// Drops the blocks not started yet, stops the workers and waits for them; safe to call more than once.
    func shutdown() {
        condition.lock()
        stopping = true
        jobs.removeAll()
        condition.broadcast()
        while running > 0 { condition.wait() }
        condition.unlock()
    }

    private func work(_ compressor: GzipMemberCompressor) {
        condition.lock()
        while true {
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty { break }
            let job = jobs.removeFirst()
            condition.unlock()
            let outcome = Result { try compressor.compress(job.input) }.mapError {
                $0 as? CodecError ?? .compressFailed(.gzip, "\($0)")
            }
            condition.lock()
            results[job.sequence] = outcome
            condition.broadcast()
        }
        running -= 1
        condition.broadcast()
        condition.unlock()
    }
}
