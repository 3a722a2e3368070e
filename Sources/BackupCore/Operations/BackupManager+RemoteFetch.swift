import Foundation

/// Restore, verify and download of a backup that is only on the remote: it is fetched into `.partial/`
/// (streamed), checked against the remote sidecar's SHA-256 and size, then committed here as a local backup
/// (so the operation proceeds exactly as for a local one, and a second restore does not fetch again).
extension BackupManager {
    /// Fetches `name` when it is known only on the remote; nothing when it is here. Under the caller's lock.
    func fetchIfRemoteOnly(_ name: String, progress: ProgressHandler?) throws {
        guard let remote, isRemoteOnly(name) else { return }
        logger.info("fetching a remote-only backup", metadata: ["filename": "\(name)", "remote": "\(remote.settings.spec)"])
        let metadata = try remoteMetadata(name, remote: remote)
        // A dump or sidecar left here alone (an orphan) would block the commit: the remote copy is the backup.
        if store.hasDump(name) != store.hasSidecar(name) { try store.remove([name]) }
        let dump = try store.newDump(name)
        let size = ByteCountStage(next: ProgressStage(phase: "fetch", handler: progress, next: dump))
        let sha256 = SHA256Stage(next: size)
        let reading = try RemoteStorage(remote: remote).openDump(name)
        do {
            try reading.source.pump(into: sha256, interruptible: "fetch")
        } catch {
            dump.discard()
            throw error
        }
        let digest = sha256.hexDigest ?? ""
        if let expected = metadata.sha256, expected != digest {
            dump.discard()
            throw BackupError.verificationFailed(
                name: name, reason: "the remote copy's SHA-256 \(digest) does not match its sidecar's \(expected)")
        }
        guard size.count == metadata.sizeBytes else {
            dump.discard()
            throw BackupError.verificationFailed(
                name: name, reason: "the remote copy has \(size.count) bytes, its sidecar records \(metadata.sizeBytes)")
        }
        _ = try dump.commit { metadata }
        logger.info("remote backup fetched", metadata: ["filename": "\(name)", "bytes": "\(size.count)"])
    }

    /// Takes the lock and fetches a remote-only backup (verify and download of one; restore fetches under its own
    /// lock). A busy lock is `operationInProgress`, as for any change to the directory.
    func fetchForReading(_ name: String, progress: ProgressHandler?) throws {
        guard isRemoteOnly(name) else { return }
        let lock = try store.lock("fetch", now: clock.now())
        defer { withExtendedLifetime(lock) {} }
        try fetchIfRemoteOnly(name, progress: progress)
    }

    /// `verify --remote NAME`: reads the remote copy through the verify pipeline (SHA-256 and size against the
    /// remote sidecar, the codec's checks, the dump trailer) without keeping it; `verificationFailed` (exit 4)
    /// names what is wrong, including a dump or sidecar missing on the remote.
    public func verifyRemote(_ name: String, progress: ProgressHandler? = nil) throws -> VerificationReport {
        let name = try BackupName.validate(name)
        let remote = try requireRemote()
        let metadata = try remoteMetadata(name, remote: remote)
        do {
            return try BackupReader(storage: RemoteStorage(remote: remote)).read(metadata, progress: progress)
        } catch let BackupError.verificationFailed(_, reason) {
            throw BackupError.verificationFailed(name: name, reason: "the copy on \(remote.settings.spec): \(reason)")
        }
    }
}
