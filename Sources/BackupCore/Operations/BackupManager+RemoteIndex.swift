import Foundation

/// The local index of the remote (in `.remote.json`): refreshed by uploads, remote cleanup and `sync`, read by
/// `list` and `status`, which so never wait on the network.
extension BackupManager {
    /// `pgbackup sync` / `POST /api/backups/sync`: lists the remote and rewrites the index. On a new machine with
    /// an empty `BACKUP_DIR`, this is what makes the remote's backups listable and restorable.
    public func sync(user: String? = nil) throws -> RemoteResult {
        let remote = try requireRemote()
        let lock = try store.lock("sync", now: clock.now())
        defer { withExtendedLifetime(lock) {} }
        let state: RemoteState
        do { state = try refreshIndexLocked(remote) } catch {
            recordFailure(operation: "sync", error: error)
            throw error
        }
        recordSuccess(operation: "sync")
        logger.info("remote index refreshed", metadata: ["backups": "\(state.remoteBackups.count)", "user": "\(user ?? "-")"])
        var result = RemoteResult()
        result.pending = state.pending.map(\.filename)
        result.remoteBackups = state.remoteBackups.count
        result.refreshedAt = state.refreshedAt
        return result
    }

    /// Lists the remote (unless given a `listing` just taken) and records its complete backups (a dump with a
    /// sidecar that parses, names it and records the dump's size). A sidecar already known with the same dump size
    /// is not read again.
    @discardableResult
    func refreshIndexLocked(_ remote: RcloneRemote, listing: [RemoteObject]? = nil) throws -> RemoteState {
        let objects = try listing ?? remote.objects()
        let sizes = Dictionary(objects.map { ($0.name, $0.size) }, uniquingKeysWith: { first, _ in first })
        var known = Dictionary(RemoteState.load(store).remoteBackups.map { ($0.filename, $0) },
                               uniquingKeysWith: { first, _ in first })
        var backups: [BackupMetadata] = []
        for object in objects where BackupName.isValid(object.name) && sizes[BackupStore.sidecarName(object.name)] != nil {
            if let metadata = known.removeValue(forKey: object.name), metadata.sizeBytes == object.size {
                backups.append(metadata)
                continue
            }
            do {
                let metadata = try BackupMetadata.parse(try remote.read(BackupStore.sidecarName(object.name)))
                guard metadata.filename == object.name, metadata.sizeBytes == object.size else {
                    logger.warning("remote backup skipped: its sidecar does not match its dump", metadata: ["filename": "\(object.name)"])
                    continue
                }
                backups.append(metadata)
            } catch {
                logger.warning("remote backup skipped: unreadable sidecar", metadata: ["filename": "\(object.name)", "error": "\(error)"])
            }
        }
        backups.sort { $0.createdAt != $1.createdAt ? $0.createdAt > $1.createdAt : $0.filename > $1.filename }
        let now = clock.now()
        try RemoteState.update(store) { state in
            state.remoteBackups = backups
            state.refreshedAt = now
        }
        return RemoteState.load(store)
    }

    /// The remote sidecar of `name`, read afresh: what a fetched or verified copy is checked against.
    func remoteMetadata(_ name: String, remote: RcloneRemote) throws -> BackupMetadata {
        let sidecar = BackupStore.sidecarName(name)
        guard try remote.stat(name) != nil else {
            throw BackupError.verificationFailed(name: name, reason: "the dump is missing on the remote \(remote.settings.spec)")
        }
        guard try remote.stat(sidecar) != nil else {
            throw BackupError.verificationFailed(name: name, reason: "its sidecar is missing on the remote \(remote.settings.spec)")
        }
        do {
            let metadata = try BackupMetadata.parse(try remote.read(sidecar))
            guard metadata.filename == name else {
                throw BackupError.verificationFailed(name: name, reason: "the remote sidecar names another file ('\(metadata.filename)')")
            }
            return metadata
        } catch let error as SidecarError {
            throw BackupError.verificationFailed(name: name, reason: "the remote sidecar is damaged: \(error.description)")
        }
    }

    /// Whether `name` is known only on the remote (in the index, not complete here).
    func isRemoteOnly(_ name: String) -> Bool {
        guard remote != nil, BackupName.isValid(name), !store.hasSidecar(name) || !store.hasDump(name) else { return false }
        return RemoteState.load(store).remoteNames.contains(name)
    }
}
