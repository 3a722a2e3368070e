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
            metadata = try createLocked(database: configuration.postgres.database, description: description,
                                        kind: kind, progress: progress)
        } catch {
            recordFailure(operation: "create", error: error)
            throw error
        }
        var state = RunState.load(store)
        state.lastSuccessAt = metadata.createdAt
        do {
            try state.save(store)
        } catch {
            logger.error("could not record the success for status", metadata: ["error": "\(error)"])
        }
        logger.info("backup committed", metadata: [
            "filename": "\(metadata.filename)", "size_mb": "\(metadata.sizeMB)",
            "seconds": "\(metadata.durationSeconds ?? 0)"])
        do {
            let result = try cleanupLocked(dryRun: false)
            if !result.deleted.isEmpty {
                logger.info("retention removed old backups", metadata: ["deleted": "\(result.deleted.joined(separator: ","))"])
            }
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

    private func recordFailure(operation: String, error: Error) {
        if case .operationInProgress? = error as? BackupError { return }
        var state = RunState.load(store)
        state.lastFailure = RunState.Failure(at: clock.now(), operation: operation, message: "\(error)")
        do {
            try state.save(store)
        } catch {
            logger.error("could not record the failure for status", metadata: ["error": "\(error)"])
        }
        logger.warning("\(operation) failed", metadata: ["error": "\(error)"])
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
        return try BackupReader(store: store).read(metadata, progress: progress)
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
    /// transaction. The target database must exist.
    public func restore(_ name: String, targetDatabase: String? = nil, safetyBackup: Bool = true, user: String? = nil,
                        progress: ProgressHandler? = nil) throws -> RestoreResult {
        let name = try BackupName.validate(name)
        let target = targetDatabase ?? configuration.postgres.database
        if let problem = DatabaseName.problem(target) { throw BackupError.invalidInput("invalid target database: \(problem)") }
        let lock = try store.lock("restore", now: clock.now())
        defer { withExtendedLifetime(lock) {} }
        let started = Date()
        logger.info("restoring backup", metadata: ["filename": "\(name)", "target": "\(target)", "user": "\(user ?? "-")"])
        do {
            let metadata = try store.metadata(name)
            _ = try BackupReader(store: store).read(metadata)
            _ = try tools.serverVersion(database: target)
            var safety: BackupMetadata?
            if safetyBackup {
                safety = try createLocked(database: target, description: "Safety backup before restoring \(name)",
                                          kind: .preRestore, progress: progress)
            }
            try RestoreOperation(store: store, tools: tools).run(metadata, into: target, progress: progress)
            let result = RestoreResult(filename: name, targetDatabase: target, safetyBackup: safety,
                                       durationSeconds: Date().timeIntervalSince(started))
            logger.info("restore finished", metadata: ["filename": "\(name)", "target": "\(target)"])
            return result
        } catch {
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

    public struct CleanupResult: Sendable, Equatable {
        public var deleted: [String]
        public var kept: [String]
        public var dryRun: Bool

        public var json: JSON {
            .object([
                ("success", .bool(true)),
                ("message", .string(dryRun ? "Would delete \(deleted.count) backup(s)" : "Deleted \(deleted.count) backup(s)")),
                ("dry_run", .bool(dryRun)),
                ("deleted", .array(deleted.map(JSON.string))),
                ("kept", .int(Int64(kept.count))),
            ])
        }
    }

    /// Applies retention to complete backups; orphans and damaged entries are never touched.
    public func cleanup(dryRun: Bool = false, user: String? = nil) throws -> CleanupResult {
        let lock = try store.lock("cleanup", now: clock.now())
        defer { withExtendedLifetime(lock) {} }
        let result = try cleanupLocked(dryRun: dryRun)
        logger.info("cleanup", metadata: ["deleted": "\(result.deleted.count)", "dry_run": "\(dryRun)", "user": "\(user ?? "-")"])
        return result
    }

    func cleanupLocked(dryRun: Bool) throws -> CleanupResult {
        let backups = try store.listing().backups
        let plan = Retention.plan(backups.map { .init(filename: $0.filename, createdAt: $0.createdAt) },
                                  retentionDays: configuration.retentionDays, maxCount: configuration.maxCount,
                                  now: clock.now())
        if !dryRun {
            for name in plan.delete {
                for path in [store.sidecarPath(name), store.dumpPath(name)] where unlink(path) != 0 && errno != ENOENT {
                    throw FileSystem.fail(path)
                }
            }
            if !plan.delete.isEmpty { try FileSystem.fsyncPath(store.directory, directory: true) }
        }
        return CleanupResult(deleted: plan.delete, kept: plan.keep, dryRun: dryRun)
    }

    // MARK: status

    public func status() throws -> BackupStatus {
        BackupStatus(configuration: configuration, summary: try ListingCache(store: store).summary(),
                     state: RunState.load(store), running: store.lockHolder, now: clock.now())
    }

    /// The list as the API sends it (a compact JSON array, newest first), from the cache when the directory
    /// has not changed since it was rendered.
    public func listBody() throws -> [UInt8] { try ListingCache(store: store).listBody() }

    /// The same list followed by a newline, gzip-compressed, cached the same way.
    public func listBodyGzip() throws -> [UInt8] { try ListingCache(store: store).listBodyGzip() }
}
