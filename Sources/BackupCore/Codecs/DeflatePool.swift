import CSystem
import CZlib
import Foundation

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
