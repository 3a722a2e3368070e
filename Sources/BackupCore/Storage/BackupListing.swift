/// A listing of a store: complete backups (newest first), damaged sidecars, and orphans (dumps without a sidecar,
/// never counted or deleted automatically).
public struct BackupListing: Sendable {
    public var backups: [BackupMetadata]
    public var damaged: [(filename: String, error: String)]
    public var orphans: [String]
    /// With off-site copies on: what the local index knows of the remote (see `BackupListing+Locations`).
    public var remote: RemoteState? = nil

    /// Complete and damaged entries together, newest first, damaged last.
    public var entries: [BackupEntry] {
        backups.map(BackupEntry.complete) + damaged.map { BackupEntry.damaged(filename: $0.filename, error: $0.error) }
    }
}
