import Foundation

/// Off-site copies: every committed backup is marked pending, then uploaded (dump first, then its sidecar, the
/// remote's commit marker) and checked on the remote (size, and SHA-256 or MD5). An upload failure never fails or
/// removes the local backup: it stays pending and is retried, oldest first, by the next create, the next
/// scheduler run and `push`. All of it runs under the directory's lock.
extension BackupManager {
    /// `pgbackup push` / `POST /api/backups/push`: uploads every pending backup, oldest first.
    public func push(user: String? = nil, progress: ProgressHandler? = nil) throws -> RemoteResult {
        let remote = try requireRemote()
        let lock = try store.lock("push", now: clock.now())
        defer { withExtendedLifetime(lock) {} }
        logger.info("pushing pending uploads", metadata: ["user": "\(user ?? "-")"])
        let result = pushLocked(remote, progress: progress)
        if let error = result.error { throw error }
        return result
    }

    /// A scheduler run that makes no backup still retries pending uploads; a busy lock is left to its holder.
    public func retryPendingUploads() {
        guard let remote, !RemoteState.load(store).pending.isEmpty,
              let lock = try? store.lock("push", now: clock.now()) else { return }
        defer { withExtendedLifetime(lock) {} }
        _ = pushLocked(remote, progress: nil)
    }

    /// A full disk while uploads are pending: those backups are kept locally whatever retention says, so they may
    /// be what fills it. Said in the log here, and by status.
    func warnIfPendingFillTheDisk(_ error: Error) {
        guard remote != nil, case .insufficientSpace? = error as? BackupError else { return }
        let pending = RemoteState.load(store).pending
        guard !pending.isEmpty else { return }
        logger.warning("the disk is full while backups wait for their upload (kept locally, the only copies): run 'pgbackup push'",
                       metadata: ["pending": "\(pending.map(\.filename).joined(separator: ","))"])
    }

    func requireRemote() throws -> RcloneRemote {
        guard let remote else {
            throw BackupError.invalidInput("off-site copies are off: set BACKUP_REMOTE (see the README's Off-site copies)")
        }
        return remote
    }

    /// Marks a just-committed backup pending (before anything can fail) so no crash or outage loses track of it.
    func markPending(_ metadata: BackupMetadata) {
        guard remote != nil else { return }
        do {
            try RemoteState.update(store) { $0.addPending(metadata.filename, at: metadata.createdAt) }
        } catch {
            logger.error("could not record the pending upload", metadata: ["filename": "\(metadata.filename)", "error": "\(error)"])
        }
    }

    /// Uploads the pending backups oldest first, stopping at the first failure (the remote is most likely down
    /// for the rest too); after any success, applies remote retention. Never throws: the result carries the error.
    func pushLocked(_ remote: RcloneRemote, progress: ProgressHandler?) -> RemoteResult {
        var result = RemoteResult()
        // The remote directory as the last upload listed it (its own sidecar added), while no upload failed after it.
        var listing: [RemoteObject]?
        for pending in RemoteState.load(store).pending {
            guard case let .success(metadata) = store.readMetadata(pending.filename) else {
                logger.warning("pending upload dropped: the local backup is gone", metadata: ["filename": "\(pending.filename)"])
                try? RemoteState.update(store) { state in state.pending.removeAll { $0.filename == pending.filename } }
                continue
            }
            do {
                listing = try upload(metadata, to: remote, progress: progress)
                result.uploaded.append(metadata.filename)
            } catch {
                listing = nil
                let message = "\(error)"
                try? RemoteState.update(store) { $0.lastError = .init(at: clock.now(), message: message) }
                recordFailure(operation: "upload", error: error)
                result.error = error as? BackupError ?? .remoteFailed(message)
                break
            }
        }
        if !result.uploaded.isEmpty {
            recordSuccess(operation: "upload")
            do { result.remoteDeleted = try remoteCleanupLocked(remote, listing: listing) } catch {
                logger.error("remote retention failed", metadata: ["error": "\(error)"])
                if result.error == nil { result.error = error as? BackupError ?? .remoteFailed("\(error)") }
            }
        }
        let state = RemoteState.load(store)
        result.pending = state.pending.map(\.filename)
        result.remoteBackups = state.remoteBackups.count
        result.refreshedAt = state.refreshedAt
        return result
    }

    /// One backup: the dump, checked on a listing of the remote directory taken after its copy, then the sidecar;
    /// only then is it "on the remote". Returns that listing with the sidecar added: remote retention's fresh
    /// listing (three rclone processes an upload; see README, Benchmarks).
    func upload(_ metadata: BackupMetadata, to remote: RcloneRemote, progress: ProgressHandler?) throws -> [RemoteObject] {
        let name = metadata.filename
        let started = Date()
        logger.info("uploading backup", metadata: ["filename": "\(name)", "remote": "\(remote.settings.spec)"])
        let check = RemoteCheck(remote: remote, localDumpMD5: BackgroundResult { [path = store.dumpPath(name)] in try RemoteCheck.md5(of: path) })
        var listing: [RemoteObject] = []
        try checked(remote.upload(localPath: store.dumpPath(name), object: name, as: .dump, progress: progress)) {
            listing = try remote.objects(hashes: true)
            try check.dump(metadata, localPath: store.dumpPath(name), in: listing)
        }
        // The sidecar is small: rclone checks its size and MD5 after the copy itself. Only when rclone reports a
        // failure is it looked up.
        let sidecar = BackupStore.sidecarName(name)
        if let error = try remote.upload(localPath: store.sidecarPath(name), object: sidecar, as: .sidecar, progress: nil) {
            try checked(error) { try check.sidecar(sidecar, localPath: store.sidecarPath(name)) }
        }
        listing.removeAll { $0.name == sidecar }
        listing.append(RemoteObject(name: sidecar, size: FileSystem.regularFileSize(store.sidecarPath(name)) ?? 0))
        try RemoteState.update(store) { state in
            state.pending.removeAll { $0.filename == name }
            state.lastError = nil
            state.lastUpload = clock.now()
            state.remoteBackups.removeAll { $0.filename == name }
            state.remoteBackups.append(metadata)
            state.remoteBackups.sort { $0.createdAt != $1.createdAt ? $0.createdAt > $1.createdAt : $0.filename > $1.filename }
        }
        logger.info("backup uploaded", metadata: [
            "filename": "\(name)", "seconds": "\(String(format: "%.1f", Date().timeIntervalSince(started)))"])
        return listing
    }

    /// What is on the remote decides, not rclone's exit status: a check that passes after a reported failure is a
    /// success (logged); a failed check reports rclone's own error when there was one, as it says more.
    private func checked(_ uploadError: String?, _ check: () throws -> Void) throws {
        do {
            try check()
            if let uploadError { logger.warning("rclone reported an error, but the copy on the remote checks out", metadata: ["error": "\(uploadError)"]) }
        } catch {
            if let uploadError { throw BackupError.remoteFailed(uploadError) }
            throw error
        }
    }

    /// Remote retention: the local rule (`Retention.plan`) with the remote's settings over the remote's complete
    /// backups; runs only after a successful upload, on a fresh listing (`listing`, the last upload's, or listed
    /// now). Deletes in two rclone calls, every sidecar before any dump; the index then drops what was deleted
    /// (after a failed deletion it is listed afresh, so it shows what is really there).
    func remoteCleanupLocked(_ remote: RcloneRemote, listing: [RemoteObject]? = nil) throws -> [String] {
        let state = try refreshIndexLocked(remote, listing: listing)
        let plan = Retention.plan(
            state.remoteBackups.map { .init(filename: $0.filename, createdAt: $0.createdAt, database: $0.retentionDatabase) },
            retentionDays: remote.settings.retentionDays, maxCount: remote.settings.maxCount, now: clock.now())
        guard !plan.delete.isEmpty else { return [] }
        do {
            try remote.delete(plan.delete.map(BackupStore.sidecarName), scratchDirectory: store.partialDirectory)
            try remote.delete(plan.delete, scratchDirectory: store.partialDirectory)
        } catch {
            _ = try? refreshIndexLocked(remote)
            throw error
        }
        logger.info("remote retention applied", metadata: ["deleted": "\(plan.delete.joined(separator: ","))"])
        let deleted = Set(plan.delete)
        try RemoteState.update(store) { $0.remoteBackups.removeAll { deleted.contains($0.filename) } }
        return plan.delete
    }
}

extension BackupManager {
    /// Local retention never deletes the only copy: a backup retention would delete while it is still pending
    /// upload is kept (and named in the result), until it is on the remote.
    func keptForUpload(_ plan: Retention.Plan) -> (delete: [String], keep: [String], databases: [Retention.DatabasePlan],
                                                   pendingUpload: [String]) {
        guard remote != nil else { return (plan.delete, plan.keep, plan.databases, []) }
        let pending = RemoteState.load(store).pendingNames
        let held = plan.delete.filter(pending.contains)
        guard !held.isEmpty else { return (plan.delete, plan.keep, plan.databases, []) }
        let databases = plan.databases.map { database in
            Retention.DatabasePlan(database: database.database,
                                   keep: database.keep + database.delete.filter(pending.contains),
                                   delete: database.delete.filter { !pending.contains($0) })
        }
        return (plan.delete.filter { !pending.contains($0) }, plan.keep + held, databases, held)
    }
}
