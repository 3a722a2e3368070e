import Foundation

/// Writes progress into the job file as it comes (the handler is already throttled).
final class ProgressRecorder: @unchecked Sendable {
    private let runner: JobRunner
    private var job: Job
    private let lock = NSLock()
    private(set) var last: OperationProgress?

    init(runner: JobRunner, job: Job) {
        self.runner = runner
        self.job = job
    }

    var record: ProgressHandler {
        { [self] progress in
            lock.lock()
            defer { lock.unlock() }
            last = progress
            job.progress = progress
            job.updatedAt = Date()
            try? runner.save(job)
        }
    }
}
