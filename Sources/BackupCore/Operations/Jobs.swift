import Foundation

/// A long operation run detached from the request that asked for it. Its whole state is a file,
/// `$BACKUP_DIR/.jobs/<id>.json`, so it survives the responder exiting and any responder can report it.
public struct Job: Sendable, Equatable {
    public enum Operation: Sendable, Equatable {
        case create(description: String)
        case restore(filename: String, targetDatabase: String?, safetyBackup: Bool, terminateConnections: Bool = false)

        public var name: String {
            switch self {
            case .create: "create"
            case .restore: "restore"
            }
        }
    }

    public enum State: String, Sendable {
        case queued, running, succeeded, failed
    }

    public var id: String
    public var operation: Operation
    public var state: State
    public var user: String?
    public var createdAt: Date
    public var updatedAt: Date
    public var pid: Int32?
    public var progress: Progress?
    public var result: JSON?
    public var error: JSON?

    public var json: JSON {
        var request: [(String, JSON)] = []
        switch operation {
        case let .create(description):
            request = [("description", .string(description))]
        case let .restore(filename, target, safety, terminate):
            request = [("backup_filename", .string(filename)), ("target_database", target.map(JSON.string) ?? .null),
                       ("safety_backup", .bool(safety)), ("terminate_connections", .bool(terminate))]
        }
        return .object([
            ("id", .string(id)), ("operation", .string(operation.name)), ("state", .string(state.rawValue)),
            ("request", .object(request)), ("user", user.map(JSON.string) ?? .null),
            ("created_at", .string(Timestamp.iso8601(createdAt))), ("updated_at", .string(Timestamp.iso8601(updatedAt))),
            ("pid", pid.map { .int(Int64($0)) } ?? .null), ("progress", progress?.json ?? .null),
            ("result", result ?? .null), ("error", error ?? .null),
        ])
    }

    static func parse(_ json: JSON) -> Job? {
        guard let id = json["id"]?.stringValue, let opName = json["operation"]?.stringValue,
              let state = json["state"]?.stringValue.flatMap(State.init(rawValue:)),
              let created = json["created_at"]?.stringValue.flatMap(Timestamp.parse),
              let updated = json["updated_at"]?.stringValue.flatMap(Timestamp.parse), let request = json["request"]
        else { return nil }
        let operation: Operation
        switch opName {
        case "create": operation = .create(description: request["description"]?.stringValue ?? "")
        case "restore":
            guard let filename = request["backup_filename"]?.stringValue else { return nil }
            operation = .restore(filename: filename, targetDatabase: request["target_database"]?.stringValue,
                                 safetyBackup: request["safety_backup"]?.boolValue ?? true,
                                 terminateConnections: request["terminate_connections"]?.boolValue ?? false)
        default: return nil
        }
        var progress: Progress?
        if let p = json["progress"], let bytes = p["bytes"]?.int64Value {
            let rate = p["rate_bytes_per_second"]?.doubleValue ?? 0
            progress = Progress(phase: p["phase"]?.stringValue ?? "", bytes: bytes,
                                elapsedSeconds: rate > 0 ? Double(bytes) / rate : 0)
        }
        return Job(id: id, operation: operation, state: state, user: json["user"]?.stringValue, createdAt: created,
                   updatedAt: updated, pid: json["pid"]?.int64Value.map { Int32($0) }, progress: progress,
                   result: json["result"].flatMap { $0.isNull ? nil : $0 },
                   error: json["error"].flatMap { $0.isNull ? nil : $0 })
    }

    /// Job ids are 32 lower-case hex digits; anything else never touches the filesystem.
    public static func isValidID(_ id: String) -> Bool {
        id.utf8.count == 32 && id.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}

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

    private func path(_ id: String) -> String { "\(store.jobsDirectory)/\(id).json" }
    private func pidPath(_ id: String) -> String { "\(store.jobsDirectory)/\(id).pid" }

    func save(_ job: Job) throws {
        try FileSystem.makeDirectory(store.jobsDirectory)
        try FileSystem.writeAtomically(Array(job.json.serialized(pretty: true).utf8), to: path(job.id),
                                       tempDirectory: store.jobsDirectory)
    }

    /// Reads a job; a job whose process died without finishing is reported as failed.
    public func read(_ id: String) throws -> Job {
        guard Job.isValidID(id) else { throw BackupError.invalidInput("invalid job id '\(id.prefix(40))': a job id is 32 lower-case hex digits") }
        guard let bytes = try FileSystem.readSmallFile(path(id)) else { throw BackupError.jobNotFound(id) }
        guard let json = try? JSON.parse(bytes), var job = Job.parse(json) else {
            throw BackupError.io(path: path(id), message: "the job file is damaged")
        }
        if job.pid == nil, let text = try? FileSystem.readSmallFile(pidPath(id)) {
            job.pid = Int32(String(decoding: text, as: UTF8.self))
        }
        if job.state == .running || job.state == .queued, let pid = job.pid, kill(pid, 0) != 0, errno == ESRCH {
            job.state = .failed
            job.error = BackupError.io(path: "job \(id)", message: "the job's process ended before finishing").json
        }
        return job
    }

    /// Records the job and starts a detached process (own session) to run it, then waits (up to 10 s) until
    /// that process holds the lock. So two requests at once get one 202 and one 409, never two 202s of which one
    /// fails later.
    public func start(_ operation: Job.Operation, user: String?) throws -> Job {
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
        let child = try ChildProcess(command, newSession: true)
        job.pid = child.pid
        // The child owns the job file from now on; its pid goes beside it so a job whose process died before
        // writing anything is still reported as failed.
        try? FileSystem.writeAtomically(Array(String(child.pid).utf8), to: pidPath(id), tempDirectory: store.jobsDirectory)
        // Reap it without blocking this thread, so no zombie is left while the responder lives.
        Thread.detachNewThread { child.wait() }
        return try waitUntilStarted(job)
    }

    private func waitUntilStarted(_ job: Job) throws -> Job {
        for _ in 0..<1000 {
            if let holder = store.lockHolder, holder.pid == job.pid {
                return (try? read(job.id)) ?? job
            }
            if let current = try? read(job.id), current.state == .succeeded || current.state == .failed {
                if current.state == .failed, current.error?["error"]?.stringValue == "operation_in_progress" {
                    unlink(path(job.id))
                    unlink(pidPath(job.id))
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
    public func recent(limit: Int = 100) throws -> [Job] {
        guard let names = try? FileSystem.list(store.jobsDirectory) else { return [] }
        let jobs = names.compactMap { name -> Job? in
            guard name.hasSuffix(".json") else { return nil }
            let id = String(name.dropLast(5))
            return Job.isValidID(id) ? try? read(id) : nil
        }
        return Array(jobs.sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }.prefix(limit))
    }

    /// Job files are small but would pile up forever; finished ones older than `age` seconds go.
    func pruneFinishedJobs(olderThan age: TimeInterval) {
        guard let names = try? FileSystem.list(store.jobsDirectory) else { return }
        let cutoff = manager.clock.now().addingTimeInterval(-age)
        for name in names where name.hasSuffix(".json") {
            let id = String(name.dropLast(5))
            guard Job.isValidID(id), let job = try? read(id), job.state == .succeeded || job.state == .failed,
                  job.updatedAt < cutoff
            else { continue }
            unlink(path(id))
            unlink(pidPath(id))
        }
    }

    /// Runs job `id` in this process (the detached child); returns the process exit code.
    public func run(_ id: String) -> Int32 {
        guard var job = try? read(id) else { return 2 }
        job.state = .running
        job.pid = getpid()
        job.updatedAt = manager.clock.now()
        try? save(job)
        let progressJob = ProgressRecorder(runner: self, job: job)
        do {
            switch job.operation {
            case let .create(description):
                let metadata = try manager.create(description: description, kind: .manual, user: job.user,
                                                  yieldsSession: true, progress: progressJob.record)
                job.result = .object([("success", .bool(true)), ("message", .string("Backup created successfully")),
                                      ("backup", metadata.listingJSON)])
            case let .restore(filename, target, safety, terminate):
                let result = try manager.restore(filename, targetDatabase: target, safetyBackup: safety,
                                                 terminateConnections: terminate, user: job.user,
                                                 progress: progressJob.record)
                job.result = result.json
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
        if job.state == .failed, let signal = Interruption.shared.signal { return 128 + signal }
        return job.state == .succeeded ? 0 : 1
    }
}

/// Writes progress into the job file as it comes (the handler is already throttled).
final class ProgressRecorder: @unchecked Sendable {
    private let runner: JobRunner
    private var job: Job
    private let lock = NSLock()
    private(set) var last: Progress?

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
