import Foundation

/// What `push` or `sync` did: the backups uploaded, those still pending, what remote retention deleted, and the
/// index of the remote afterwards.
public struct RemoteResult: Sendable {
    public var uploaded: [String] = []
    public var pending: [String] = []
    public var remoteDeleted: [String] = []
    public var remoteBackups = 0
    public var refreshedAt: Date?
    /// The upload that failed (the rest stayed pending); `push` throws it.
    public var error: BackupError?

    public var json: JSON {
        .object([
            ("success", .bool(error == nil)),
            ("uploaded", .array(uploaded.map(JSON.string))),
            ("pending", .array(pending.map(JSON.string))),
            ("remote_deleted", .array(remoteDeleted.map(JSON.string))),
            ("remote_backups", .int(Int64(remoteBackups))),
            ("refreshed_at", refreshedAt.map { .string(Timestamp.iso8601($0)) } ?? .null),
        ])
    }
}
