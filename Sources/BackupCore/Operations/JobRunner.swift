import Foundation

/// Starts, runs and reads jobs.
public struct JobRunner: Sendable {
    let manager: BackupManager
    /// The program that runs a job: this program with `--run-job ID` (and the same env file).
    let executable: String
    let extraArguments: [String]

    public init(manager: BackupManager, executable: String, extraArguments: [String] = []) {
        self.manager = manager
        self.executable = executable
        self.extraArguments = extraArguments
    }

    private var store: BackupStore { manager.store }

    func save(_ job: Job) throws {
        try store.saveJob(Array(job.json.serialized(pretty: true).utf8), id: job.id)
    }

    /// Reads a job; a job whose process died without finishing is reported as failed.
    public func read(_ id: String) throws -> Job {
        guard Job.isValidID(id) else { throw BackupError.invalidInput("invalid job id '\(id.prefix(40))': a job id is 32 lower-case hex digits") }
        guard let bytes = try store.readJob(id) else { throw BackupError.jobNotFound(id) }
        guard let json = try? JSON.parse(bytes), var job = Job.parse(json) else {
            throw BackupError.io(path: store.jobPath(id), message: "the job file is damaged")
        }
        if job.pid == nil, let pid = store.readJobPID(id) { job.pid = pid }
        if job.state == .running || job.state == .queued, let pid = job.pid, kill(pid, 0) != 0, errno == ESRCH {
            job.state = .failed
            job.error = BackupError.io(path: "job \(id)", message: "the job's process ended before finishing").json
        }
        return job
    }

    /// Records the job and starts a detached process (own session) to run it, then waits (up to 10 s) until
    /// that process holds the lock. So two requests at once get one 202 and one 409, never two 202s of which one
    /// fails later.
    public func start(_ operation: Job.Operation, user: String?) throws -> StartedJob {
        if let holder = store.lockHolder { throw BackupError.operationInProgress(holder) }
        try store.prepare()
        pruneFinishedJobs(olderThan: 7 * 86_400)
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255) }
        let id = bytes.map { String(format: "%02x", $0) }.joined()
        let now = manager.clock.now()
        var job = Job(id: id, operation: operation, state: .queued, user: user, createdAt: now, updatedAt: now)
        try save(job)
        let command = Command(executable: executable, arguments: extraArguments + ["--run-job", id],
                              environment: ProcessInfo.processInfo.environment)
        let child = try BackupError.mapping { try ChildProcess(command, newSession: true) }
        job.pid = child.pid
        // The child owns the job file from now on; its pid goes beside it so a job whose process died before
        // writing anything is still reported as failed.
        store.saveJobPID(child.pid, id: id)
        // Reap it without blocking this thread, so no zombie is left while the responder lives.
        Thread.detachNewThread { child.wait() }
        return StartedJob(job: try waitUntilStarted(job))
    }

    private func waitUntilStarted(_ job: Job) throws -> Job {
        for _ in 0..<1000 {
            if let holder = store.lockHolder, holder.pid == job.pid {
                return (try? read(job.id)) ?? job
            }
            if let current = try? read(job.id), current.state == .succeeded || current.state == .failed {
                if current.state == .failed, current.error?["error"]?.stringValue == "operation_in_progress" {
                    store.removeJob(job.id)
                    throw BackupError.operationInProgress(store.lockHolder)
                }
                return current
            }
            usleep(10_000)
        }
        return (try? read(job.id)) ?? job
    }

    /// The jobs still on record (finished ones are kept for 7 days), newest first, at most `limit`. A job file
    /// that cannot be read is left out rather than failing the whole list.
    public func recent(limit: Int = 100) throws -> JobList {
        let jobs = store.jobIDs().compactMap { id -> Job? in Job.isValidID(id) ? try? read(id) : nil }
        return JobList(jobs: Array(jobs.sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }.prefix(limit)))
    }

    /// Job files are small but would pile up forever; finished ones older than `age` seconds go.
    func pruneFinishedJobs(olderThan age: TimeInterval) {
        let cutoff = manager.clock.now().addingTimeInterval(-age)
        for id in store.jobIDs() {
            guard Job.isValidID(id), let job = try? read(id), job.state == .succeeded || job.state == .failed,
                  job.updatedAt < cutoff
            else { continue }
            store.removeJob(id)
        }
    }

    /// Runs job `id` in this process (the detached child); returns the job as it ended, or nil when there is no
    /// job `id` to run.
    public func run(_ id: String) -> Job? {
        guard var job = try? read(id) else { return nil }
        job.state = .running
        job.pid = getpid()
        job.updatedAt = manager.clock.now()
        try? save(job)
        let progressJob = ProgressRecorder(runner: self, job: job)
        do {
            switch job.operation {
            case let .create(description):
                let result = try manager.create(description: description, kind: .manual, user: job.user,
                                                yieldsSession: true, progress: progressJob.record)
                job.result = result.json
            case let .restore(filename, target, safety, terminate, swap):
                let restore = swap ? manager.restoreSwap : manager.restore
                job.result = try restore(filename, target, safety, terminate, job.user, progressJob.record).json
            case let .drill(filename):
                job.result = try manager.drill(filename, user: job.user, progress: progressJob.record).json
            }
            job.state = .succeeded
        } catch let error as BackupError {
            job.state = .failed
            job.error = error.json
        } catch {
            job.state = .failed
            job.error = BackupError.io(path: "job", message: "\(error)").json
        }
        job.progress = progressJob.last
        job.updatedAt = manager.clock.now()
        try? save(job)
        return job
    }
}
