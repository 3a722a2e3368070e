import Foundation
import Logging

/// The use cases every front end calls: create, list, info, verify, restore, delete, cleanup, status.
/// Mutating operations take the directory's lock without waiting; nothing is kept in memory between calls.
public struct BackupManager: Sendable {
    public let configuration: Configuration
    let store: BackupStore
    let tools: PostgresTools
    let clock: TimeSource
    let logger: Logger
    /// How notifications and healthcheck pings are sent (tests replace it).
    public var notificationTransport: any NotificationTransport = CurlTransport()
    /// The age programs, for encrypted backups.
    let age: AgeTool
    /// The off-site remote, when `BACKUP_REMOTE` is set (see `BackupManager+Upload`).
    let remote: RcloneRemote?

    public init(configuration: Configuration, logger: Logger, clock: TimeSource = SystemTimeSource(),
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.configuration = configuration
        self.store = BackupStore(directory: configuration.backupDirectory)
        self.tools = PostgresTools(connection: configuration.postgres,
                                   lockWaitTimeoutSeconds: configuration.lockWaitTimeoutSeconds,
                                   environment: environment)
        self.clock = clock
        self.logger = logger
        self.age = AgeTool(environment: environment)
        self.remote = configuration.remote.map {
            RcloneRemote(settings: $0, environment: environment, password: configuration.postgres.password)
        }
    }


    // MARK: create

    /// Makes a backup of the configured database, then applies retention (not after a failure).
    ///
    /// - Parameter yieldsSession: the calling process exists for this backup (CLI, scheduler, async job), so when
    ///   it leads its own session it may lower that session's CPU weight (see `SessionPriority`). Never from the
    ///   responder serving a synchronous request: its session is the API's.
    public func create(description: String = "", kind: BackupKind = .manual, user: String? = nil,
                       yieldsSession: Bool = false, progress: ProgressHandler? = nil) throws -> CreateResult {
        let description = try Self.checkDescription(description)
        let lock = try store.lock("create", now: clock.now())
        defer { withExtendedLifetime(lock) {} }
        if yieldsSession, SessionPriority.yieldIfSessionLeader() {
            logger.info("this backup leads its own session: lowered the session's CPU weight (autogroup nice \(SessionPriority.autogroupNice))")
        }
        logger.info("creating backup", metadata: ["database": "\(configuration.postgres.database)",
                                                    "kind": "\(kind.rawValue)", "user": "\(user ?? "-")"])
        let metadata: BackupMetadata
        do {
            metadata = try Interruption.shared.during("create") {
                try createLocked(database: configuration.postgres.database, description: description,
                                 kind: kind, progress: progress)
            }
        } catch {
            recordFailure(operation: "create", error: error)
            warnIfPendingFillTheDisk(error)
            throw error
        }
        recordSuccess(operation: "create", at: metadata.createdAt, backup: metadata.filename)
        logger.info("backup committed", metadata: [
            "filename": "\(metadata.filename)", "size_mb": "\(metadata.sizeMB)",
            "seconds": "\(metadata.durationSeconds ?? 0)"])
        // Off-site copy before local retention, still under the lock (see README, "Off-site copies"): a failure
        // leaves the backup pending, never fails it.
        markPending(metadata)
        if let remote { _ = pushLocked(remote, progress: progress) }
        do {
            logRetention(try cleanupLocked(dryRun: false))
        } catch {
            // The backup itself is committed; a retention failure is reported but does not undo it.
            logger.error("retention failed after backup", metadata: ["error": "\(error)"])
            notify(operation: "cleanup", outcome: .failure, message: "\(error)")
        }
        return CreateResult(backup: metadata)
    }

    func createLocked(database: String, description: String, kind: BackupKind,
                      progress: ProgressHandler?) throws -> BackupMetadata {
        try CreateOperation(store: store, tools: tools, codec: configuration.codec, compressionLevel: configuration.compressionLevel,
                            clock: clock, recipients: configuration.ageRecipients, age: age)
            .run(database: database, description: description, kind: kind, progress: progress)
    }

    /// Refuses descriptions over 1,000 bytes, or with a character that could forge a log line or reorder a table
    /// printed in a terminal (see `DescriptionText`).
    public static func checkDescription(_ description: String) throws -> String {
        guard description.utf8.count <= 1000 else {
            throw BackupError.invalidInput("description is too long (at most 1000 bytes)")
        }
        if let scalar = description.unicodeScalars.first(where: DescriptionText.isRefused) {
            throw BackupError.invalidInput(
                "description must not contain control characters, direction overrides or line separators (found \(DescriptionText.codePoint(scalar)))")
        }
        return description
    }

    /// Records a failure of the system for `status`. A client's bad request is not one: a busy lock, or a
    /// restore asked for a backup or target database that does not exist or does not fit (the configured
    /// database missing for a create is a bad setting, and is recorded).
    func recordFailure(operation: String, error: Error, backup: String? = nil) {
        switch error as? BackupError {
        case .operationInProgress?: return
        case .invalidInput? where operation == "restore" || operation == "drill" || operation == "rollback",
             .notFound? where operation == "restore" || operation == "drill",
             .targetNotNamed? where operation == "restore",
             .identityRequired? where operation == "restore" || operation == "drill",
             .wrongIdentity? where operation == "restore" || operation == "drill":
            logger.warning("\(operation) refused", metadata: ["error": "\(error)"])
            return
        default: break
        }
        defer { notify(operation: operation, outcome: .failure, backup: backup, message: "\(error)") }
        if let problem = DirectoryAccess.writeProblem(store.directory) {
            // Status reports the unwritable directory itself; the failure was shown to whoever asked.
            logger.warning("\(operation) failed and cannot be recorded: \(problem)", metadata: ["error": "\(error)"])
            return
        }
        do {
            try RunState.update(store) { state in
                let now = clock.now()
                // An upload's or a sync's failure is the remote's (`RemoteState.lastError`, the pending-upload rule):
                // it must not hide, as `lastFailure`, a create or restore failure that still stands.
                if !Self.remoteOperations.contains(operation) {
                    state.lastFailure = RunState.Failure(at: now, operation: operation, message: "\(error)")
                }
                state.lastFailures[operation] = now
            }
        } catch {
            logger.error("could not record the failure for status", metadata: ["error": "\(error)"])
        }
        logger.warning("\(operation) failed", metadata: ["error": "\(error)"])
    }

    /// Operations whose failures are the remote's: recorded per operation (metrics) and notified, never as
    /// `lastFailure`.
    static let remoteOperations: Set<String> = ["upload", "sync"]

    func recordSuccess(operation: String, at: Date? = nil, backup: String? = nil) {
        let now = at ?? clock.now()
        defer { notify(operation: operation, outcome: .success, backup: backup, message: "\(operation) succeeded") }
        guard DirectoryAccess.writeProblem(store.directory) == nil else { return }
        do {
            try RunState.update(store) { $0.lastSuccesses[operation] = now }
        } catch {
            logger.error("could not record the success for status", metadata: ["error": "\(error)"])
        }
    }

    /// Records that a scheduler run made no backup because another operation held the lock.
    public func recordSkippedRun(reason: String) {
        do {
            try RunState.update(store) { $0.lastSkippedRun = RunState.SkippedRun(at: clock.now(), reason: reason) }
        } catch {
            logger.error("could not record the skipped run for status", metadata: ["error": "\(error)"])
        }
    }
}
