import Foundation

extension BackupManager {
    /// Checks the backup, takes a safety backup of the target (unless disabled), then restores in one
    /// transaction. The target database must exist; a backup of another database than POSTGRES_DB needs the
    /// target named (`targetNotNamed`); a dump from a newer pg_dump than the target server is refused up front.
    /// `terminateConnections` ends every other session on the target (only there) just before restoring.
    public func restore(_ name: String, targetDatabase: String? = nil, safetyBackup: Bool = true,
                        terminateConnections: Bool = false, user: String? = nil,
                        progress: ProgressHandler? = nil) throws -> RestoreResult {
        try restoring(name, targetDatabase: targetDatabase, safetyBackup: safetyBackup, progress: progress) {
            metadata, target, started in
            logger.info("restoring backup", metadata: ["filename": "\(name)", "target": "\(target)", "user": "\(user ?? "-")"])
            // An encrypted backup without a matching key is refused here, before the safety backup and psql.
            let identity = try identity(for: metadata, required: true)
            let header = DumpHeader.read(name, from: store, codec: metadata.compression,
                                         decrypting: identity.map { ($0, age) })
            try checkBeforeRestoring(metadata, identity: identity)
            let server = try tools.serverVersion(database: target)
            try checkDumpVersion(metadata, header: header, target: target, server: server)
            try checkLockCapacity(metadata, identity: identity, target: target, server: server)
            let safety = safetyBackup ? try takeSafetyBackup(of: target, before: name, progress: progress) : nil
            var terminated: [DatabaseSession]?
            if terminateConnections {
                let ended = try tools.terminateSessions(database: target, serverVersion: server.number)
                logger.info("ended the other sessions on the target", metadata: [
                    "target": "\(target)", "sessions": "\(ended.map(\.summary).joined(separator: "; "))"])
                terminated = ended
            }
            try RestoreOperation(storage: store, tools: tools, identity: identity, age: age)
                .run(metadata, into: target, serverVersion: server.number, progress: progress)
            var result = RestoreResult(filename: name, targetDatabase: target, safetyBackup: safety,
                                       durationSeconds: Date().timeIntervalSince(started))
            result.terminatedSessions = terminated
            logger.info("restore finished", metadata: ["filename": "\(name)", "target": "\(target)"])
            return result
        }
    }

    /// The frame both restore modes share: the request checked, the restore lock held, a backup known only on the
    /// remote fetched, all of it inside the interruption window, the outcome recorded (status, notifications), and
    /// a safety backup made on the way uploaded once it is over (or failed), under the same lock. `body` gets the
    /// backup's metadata, its target and when the restore started (the lock held).
    func restoring(_ name: String, targetDatabase: String?, safetyBackup: Bool, progress: ProgressHandler?,
                   _ body: (BackupMetadata, String, Date) throws -> RestoreResult) throws -> RestoreResult {
        try checkRestoreRequest(name, targetDatabase: targetDatabase, backupMustExist: false)
        let lock = try store.lock("restore", now: clock.now(), writesNothing: !safetyBackup)
        defer { withExtendedLifetime(lock) {} }
        let started = Date()
        defer { if safetyBackup, let remote { _ = pushLocked(remote, progress: nil) } }
        do { return try Interruption.shared.during("restore") {
            try fetchIfRemoteOnly(name, progress: progress)
            let metadata = try store.metadata(name)
            let result = try body(metadata, try restoreTarget(for: metadata, explicit: targetDatabase), started)
            recordSuccess(operation: "restore", backup: name)
            return result
        } } catch {
            recordFailure(operation: "restore", error: error, backup: name)
            throw error
        }
    }

    /// The check that refuses a bad file before the safety backup and before psql starts. A backup whose sidecar
    /// records a sha256 is checked by sha256 and size alone, decoding nothing: the decode checks (codec, trailer,
    /// uncompressed size) run while the restore streams into psql, before COMMIT. A backup without one (the old
    /// tool's) is read and decoded in full first, since only its decode checks can tell it is damaged.
    func checkBeforeRestoring(_ metadata: BackupMetadata, identity: AgeIdentity? = nil) throws {
        let reader = reader(identity: identity)
        if metadata.sha256 != nil {
            try reader.checkStoredBytes(metadata)
        } else {
            _ = try reader.read(metadata)
        }
    }
}
