import Foundation
import Logging

/// The use cases every front end calls: create, list, info, verify, restore, delete, cleanup, status.
/// Mutating operations take the directory's lock without waiting; nothing is kept in memory between calls.
public struct BackupManager: Sendable {
    public let configuration: Configuration
    let store: BackupStore
    let tools: PostgresTools
    let clock: Clock
    let logger: Logger

    public init(configuration: Configuration, logger: Logger, clock: Clock = SystemClock(),
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.configuration = configuration
        self.store = BackupStore(directory: configuration.backupDirectory)
        self.tools = PostgresTools(connection: configuration.postgres,
                                   lockWaitTimeoutSeconds: configuration.lockWaitTimeoutSeconds,
                                   environment: environment)
        self.clock = clock
        self.logger = logger
    }

    // MARK: create

    /// Makes a backup of the configured database, then applies retention (not after a failure).
    ///
    /// - Parameter yieldsSession: the calling process exists for this backup (CLI, scheduler, async job), so when
    ///   it leads its own session it may lower that session's CPU weight (see `SessionPriority`). Never from the
    ///   responder serving a synchronous request: its session is the API's.
    public func create(description: String = "", kind: BackupKind = .manual, user: String? = nil,
                       yieldsSession: Bool = false, progress: ProgressHandler? = nil) throws -> BackupMetadata {
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
            throw error
        }
        recordSuccess(operation: "create", at: metadata.createdAt)
        logger.info("backup committed", metadata: [
            "filename": "\(metadata.filename)", "size_mb": "\(metadata.sizeMB)",
            "seconds": "\(metadata.durationSeconds ?? 0)"])
        do {
            logRetention(try cleanupLocked(dryRun: false))
        } catch {
            // The backup itself is committed; a retention failure is reported but does not undo it.
            logger.error("retention failed after backup", metadata: ["error": "\(error)"])
        }
        return metadata
    }

    func createLocked(database: String, description: String, kind: BackupKind,
                      progress: ProgressHandler?) throws -> BackupMetadata {
        try CreateOperation(store: store, tools: tools, compressionLevel: configuration.compressionLevel, clock: clock)
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
    private func recordFailure(operation: String, error: Error) {
        switch error as? BackupError {
        case .operationInProgress?: return
        case .invalidInput? where operation == "restore", .notFound? where operation == "restore",
             .targetNotNamed? where operation == "restore":
            logger.warning("\(operation) refused", metadata: ["error": "\(error)"])
            return
        default: break
        }
        if let problem = DirectoryAccess.writeProblem(store.directory) {
            // Status reports the unwritable directory itself; the failure was shown to whoever asked.
            logger.warning("\(operation) failed and cannot be recorded: \(problem)", metadata: ["error": "\(error)"])
            return
        }
        do {
            try RunState.update(store) { state in
                state.lastFailure = RunState.Failure(at: clock.now(), operation: operation, message: "\(error)")
            }
        } catch {
            logger.error("could not record the failure for status", metadata: ["error": "\(error)"])
        }
        logger.warning("\(operation) failed", metadata: ["error": "\(error)"])
    }

    private func recordSuccess(operation: String, at: Date? = nil) {
        let now = at ?? clock.now()
        guard DirectoryAccess.writeProblem(store.directory) == nil else { return }
        do {
            try RunState.update(store) { state in
                state.lastSuccesses[operation] = now
                if operation == "create" { state.lastSuccessAt = now }
            }
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

    // MARK: read-only

    public func list() throws -> BackupStore.Listing { try store.listing() }

    /// Metadata of one complete backup.
    public func info(_ name: String) throws -> BackupMetadata {
        try store.metadata(try BackupName.validate(name))
    }

    /// Reads the backup end to end and checks it; throws `verificationFailed` saying what failed.
    public func verify(_ name: String, progress: ProgressHandler? = nil) throws -> VerificationReport {
        let metadata = try info(name)
        let report = try BackupReader(store: store).read(metadata, progress: progress)
        if let reason = BackupDating.nameMismatch(filename: metadata.filename, createdAt: metadata.createdAt) {
            throw BackupError.verificationFailed(name: metadata.filename, reason: reason)
        }
        return report
    }

    /// True when `name`'s dump or sidecar is no longer there: deleted since it was listed.
    public func wasRemoved(_ name: String) -> Bool {
        guard BackupName.isValid(name) else { return false }
        return !FileSystem.exists(store.sidecarPath(name)) || !FileSystem.exists(store.dumpPath(name))
    }

    /// Opens a complete backup for streaming out: the descriptor (caller closes it) and its size.
    public func openForDownload(_ name: String) throws -> (fd: Int32, size: Int64, metadata: BackupMetadata) {
        let metadata = try info(name)
        let path = store.dumpPath(metadata.filename)
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw FileSystem.fail(path) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            close(fd)
            throw FileSystem.fail(path)
        }
        return (fd, Int64(info.st_size), metadata)
    }

    // MARK: restore

    /// Verifies the backup, takes a safety backup of the target (unless disabled), then restores in one
    /// transaction. The target database must exist; a backup of another database than POSTGRES_DB needs the
    /// target named (`targetNotNamed`); a dump from a newer pg_dump than the target server is refused up front.
    /// `terminateConnections` ends every other session on the target (only there) just before restoring.
    public func restore(_ name: String, targetDatabase: String? = nil, safetyBackup: Bool = true,
                        terminateConnections: Bool = false, user: String? = nil,
                        progress: ProgressHandler? = nil) throws -> RestoreResult {
        let name = try BackupName.validate(name)
        let named = targetDatabase ?? configuration.postgres.database
        if let problem = DatabaseName.problem(named) { throw BackupError.invalidInput("invalid target database: \(problem)") }
        // A client's mistake, refused before the lock and not recorded as a failure of the system.
        if let metadata = try? store.metadata(name) { _ = try restoreTarget(for: metadata, explicit: targetDatabase) }
        let lock = try store.lock("restore", now: clock.now(), writesNothing: !safetyBackup)
        defer { withExtendedLifetime(lock) {} }
        let started = Date()
        do { return try Interruption.shared.during("restore") {
            let metadata = try store.metadata(name)
            let target = try restoreTarget(for: metadata, explicit: targetDatabase)
            logger.info("restoring backup", metadata: ["filename": "\(name)", "target": "\(target)", "user": "\(user ?? "-")"])
            let header = DumpHeader.read(path: store.dumpPath(name))
            _ = try BackupReader(store: store).read(metadata)
            let server = try tools.serverVersion(database: target)
            try checkDumpVersion(metadata, header: header, target: target, server: server)
            var safety: BackupMetadata?
            if safetyBackup {
                do {
                    safety = try createLocked(database: target, description: "Safety backup before restoring \(name)",
                                              kind: .preRestore, progress: progress)
                } catch let BackupError.insufficientSpace(needed, available) {
                    throw BackupError.insufficientSpaceForSafetyBackup(needed: needed, available: available)
                }
            }
            var terminated: [DatabaseSession]?
            if terminateConnections {
                let ended = try tools.terminateSessions(database: target, serverVersion: server.number)
                logger.info("ended the other sessions on the target", metadata: [
                    "target": "\(target)", "sessions": "\(ended.map(\.summary).joined(separator: "; "))"])
                terminated = ended
            }
            try RestoreOperation(store: store, tools: tools).run(metadata, into: target, serverVersion: server.number,
                                                                 progress: progress)
            var result = RestoreResult(filename: name, targetDatabase: target, safetyBackup: safety,
                                       durationSeconds: Date().timeIntervalSince(started))
            result.terminatedSessions = terminated
            logger.info("restore finished", metadata: ["filename": "\(name)", "target": "\(target)"])
            recordSuccess(operation: "restore")
            return result
        } } catch {
            recordFailure(operation: "restore", error: error)
            throw error
        }
    }

    // MARK: delete and cleanup

    /// Removes a backup's dump and sidecar (sidecar first, so a crash in between leaves an orphan, not a lie).
    public func delete(_ name: String, user: String? = nil) throws {
        let name = try BackupName.validate(name)
        let lock = try store.lock("delete", now: clock.now())
        defer { withExtendedLifetime(lock) {} }
        let dump = store.dumpPath(name)
        let sidecar = store.sidecarPath(name)
        guard FileSystem.exists(dump) || FileSystem.exists(sidecar) else { throw BackupError.notFound(name) }
        for path in [sidecar, dump] where unlink(path) != 0 && errno != ENOENT { throw FileSystem.fail(path) }
        try FileSystem.fsyncPath(store.directory, directory: true)
        logger.info("backup deleted", metadata: ["filename": "\(name)", "user": "\(user ?? "-")"])
    }

    /// Applies retention to complete backups; orphans and damaged entries are never touched.
    public func cleanup(dryRun: Bool = false, user: String? = nil) throws -> CleanupResult {
        let lock = try store.lock("cleanup", now: clock.now())
        defer { withExtendedLifetime(lock) {} }
        let result = try cleanupLocked(dryRun: dryRun)
        logger.info("cleanup", metadata: ["deleted": "\(result.deleted.count)", "dry_run": "\(dryRun)", "user": "\(user ?? "-")"])
        logRetention(result)
        return result
    }

    func cleanupLocked(dryRun: Bool) throws -> CleanupResult {
        let backups = try store.listing().backups
        let plan = Retention.plan(
            backups.map { .init(filename: $0.filename, createdAt: $0.createdAt, database: $0.retentionDatabase) },
            retentionDays: configuration.retentionDays, maxCount: configuration.maxCount, now: clock.now())
        if !dryRun {
            for name in plan.delete {
                for path in [store.sidecarPath(name), store.dumpPath(name)] where unlink(path) != 0 && errno != ENOENT {
                    throw FileSystem.fail(path)
                }
            }
            if !plan.delete.isEmpty { try FileSystem.fsyncPath(store.directory, directory: true) }
        }
        return CleanupResult(deleted: plan.delete, kept: plan.keep, databases: plan.databases, dryRun: dryRun)
    }

    // MARK: status

    public func status() throws -> BackupStatus {
        BackupStatus(configuration: configuration, summary: try ListingCache(store: store).summary(),
                     state: RunState.load(store), running: store.lockHolder, now: clock.now(),
                     directoryProblem: DirectoryAccess.writeProblem(store.directory))
    }

    /// The list as the API sends it (a compact JSON array, newest first), from the cache when the directory
    /// has not changed since it was rendered.
    public func listBody() throws -> [UInt8] { try ListingCache(store: store).listBody() }

    /// The same list followed by a newline, gzip-compressed, cached the same way.
    public func listBodyGzip() throws -> [UInt8] { try ListingCache(store: store).listBodyGzip() }
}
