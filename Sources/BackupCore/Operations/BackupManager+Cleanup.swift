import Foundation

extension BackupManager {
    /// Removes a backup's dump and sidecar (sidecar first, so a crash in between leaves an orphan, not a lie).
    public func delete(_ name: String, user: String? = nil) throws -> DeleteResult {
        let name = try BackupName.validate(name)
        let lock = try store.lock("delete", now: clock.now())
        defer { withExtendedLifetime(lock) {} }
        guard store.hasDump(name) || store.hasSidecar(name) else { throw BackupError.notFound(name) }
        try store.remove([name])
        logger.info("backup deleted", metadata: ["filename": "\(name)", "user": "\(user ?? "-")"])
        return DeleteResult(filename: name)
    }

    /// Applies retention to complete backups; orphans and damaged entries are never touched.
    public func cleanup(dryRun: Bool = false, user: String? = nil) throws -> CleanupResult {
        let lock = try store.lock("cleanup", now: clock.now())
        defer { withExtendedLifetime(lock) {} }
        let result: CleanupResult
        do {
            result = try cleanupLocked(dryRun: dryRun)
        } catch {
            // Notified, not recorded: status's last failure stays that of a create or restore, as before.
            notify(operation: "cleanup", outcome: .failure, message: "\(error)")
            throw error
        }
        logger.info("cleanup", metadata: ["deleted": "\(result.deleted.count)", "dry_run": "\(dryRun)", "user": "\(user ?? "-")"])
        logRetention(result)
        return result
    }

    func cleanupLocked(dryRun: Bool) throws -> CleanupResult {
        let backups = try store.listing().backups
        let plan = Retention.plan(
            backups.map { .init(filename: $0.filename, createdAt: $0.createdAt, database: $0.retentionDatabase) },
            retentionDays: configuration.retentionDays, maxCount: configuration.maxCount, now: clock.now())
        let held = keptForUpload(plan)
        if !dryRun { try store.remove(held.delete) }
        return CleanupResult(deleted: held.delete, kept: held.keep, databases: held.databases, dryRun: dryRun,
                             pendingUpload: held.pendingUpload)
    }
}
