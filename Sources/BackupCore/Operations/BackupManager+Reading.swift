import Foundation

extension BackupManager {
    /// The local listing; with off-site copies on, with the local index of the remote attached (no network).
    public func list() throws -> BackupStore.Listing {
        var listing = try store.listing()
        if remote != nil { listing.remote = RemoteState.load(store) }
        return listing
    }

    /// Metadata of one complete backup.
    /// A backup known only on the remote answers from the local index of the remote (no network).
    public func info(_ name: String) throws -> BackupMetadata {
        let name = try BackupName.validate(name)
        if isRemoteOnly(name), let metadata = RemoteState.load(store).remoteBackups.first(where: { $0.filename == name }) {
            return metadata
        }
        return try store.metadata(name)
    }

    /// Reads the backup end to end and checks it; throws `verificationFailed` saying what failed.
    public func verify(_ name: String, progress: ProgressHandler? = nil) throws -> VerificationReport {
        try fetchForReading(try BackupName.validate(name), progress: progress)
        let metadata = try info(name)
        let report = try reader(identity: try identity(for: metadata, required: false)).read(metadata, progress: progress)
        if let reason = BackupDating.nameMismatch(filename: metadata.filename, createdAt: metadata.createdAt) {
            throw BackupError.verificationFailed(name: metadata.filename, reason: reason)
        }
        return report
    }

    /// True when `name`'s dump or sidecar is no longer there: deleted since it was listed.
    public func wasRemoved(_ name: String) -> Bool {
        guard BackupName.isValid(name) else { return false }
        return !store.hasSidecar(name) || !store.hasDump(name)
    }

    /// Opens a complete backup for streaming out: its bytes (sent through a pipeline, the descriptor closed when the
    /// body goes away) and its metadata. A file whose size is not the recorded one is refused like a damaged
    /// sidecar: its ETag (the recorded sha256) would name bytes that are not the ones sent. The size is the opened
    /// descriptor's, so it is the file that is sent.
    public func openForDownload(_ name: String) throws -> (body: DownloadBody, metadata: BackupMetadata) {
        try fetchForReading(try BackupName.validate(name), progress: nil)
        let metadata = try info(name)
        let dump = try store.openDump(metadata.filename)
        guard dump.size == metadata.sizeBytes else {
            throw BackupError.verificationFailed(
                name: metadata.filename,
                reason: "the file's size (\(dump.size) bytes) does not match its record (\(metadata.sizeBytes) bytes); run verify on it")
        }
        return (DownloadBody(dump), metadata)
    }

    public func status() throws -> BackupStatus {
        BackupStatus(configuration: configuration, summary: try ListingCache(store: store).summary(),
                     state: RunState.load(store), running: store.lockHolder, now: clock.now(),
                     directoryProblem: DirectoryAccess.writeProblem(store.directory),
                     remote: remote.map { _ in RemoteState.load(store) })
    }

    /// The list as the API sends it (a compact JSON array, newest first), from the cache when the directory
    /// has not changed since it was rendered.
    public func listBody() throws -> [UInt8] { try ListingCache(store: store, offsite: remote != nil).listBody() }

    /// The same list followed by a newline, gzip-compressed, cached the same way.
    public func listBodyGzip() throws -> [UInt8] { try ListingCache(store: store, offsite: remote != nil).listBodyGzip() }
}
