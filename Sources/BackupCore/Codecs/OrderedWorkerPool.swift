import Foundation

/// Worker threads that each run their own `work` function (holding its own library state), and the hand-off
/// between them and the one thread that feeds them: jobs go in numbered, results come out by number, so the
/// caller writes them on in order while the workers run ahead. The caller bounds how many jobs are in flight.
final class OrderedWorkerPool<Job: Sendable, Output: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [(sequence: Int, job: Job)] = []
    private var results: [Int: Output] = [:]
    private var stopping = false
    private var running = 0

    /// - Parameters:
    ///   - workers: one function per thread; each is only ever called on its own thread.
    ///   - name: the threads' name (as `top -H` shows it).
    ///   - niceIncrement: added to each worker thread's nice value (see `WorkerPriority`).
    init(workers: [@Sendable (Job) -> Output], name: String, niceIncrement: Int32) {
        let threads = workers.map { work in
            let thread = Thread { [self] in
                WorkerPriority.lowerCurrentThread(by: niceIncrement)
                run(work)
            }
            thread.name = name
            thread.stackSize = 1 << 20
            return thread
        }
        running = threads.count
        threads.forEach { $0.start() }
    }

    func submit(sequence: Int, job: Job) {
        condition.lock()
        jobs.append((sequence, job))
        condition.signal()
        condition.unlock()
    }

    /// Waits for the result of job `sequence` and takes it out of the pool.
    func result(for sequence: Int) -> Output {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let output = results.removeValue(forKey: sequence) { return output }
            condition.wait()
        }
    }

    /// Drops the jobs not started yet, stops the workers and waits for them; safe to call more than once.
    func shutdown() {
        condition.lock()
        stopping = true
        jobs.removeAll()
        results.removeAll()
        condition.broadcast()
        while running > 0 { condition.wait() }
        condition.unlock()
    }

    private func run(_ work: (Job) -> Output) {
        condition.lock()
        while true {
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty { break }
            let next = jobs.removeFirst()
            condition.unlock()
            let output = work(next.job)
            condition.lock()
            if !stopping { results[next.sequence] = output }
            condition.broadcast()
        }
        running -= 1
        condition.broadcast()
        condition.unlock()
    }
}
