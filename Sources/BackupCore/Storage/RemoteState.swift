import Foundation

/// What pgbackup knows of the off-site remote without asking it: the backups still to upload (oldest first), the
/// last upload error, and the local index of the remote (every complete backup there, as its sidecar says, and
/// when that was last refreshed). Kept in `$BACKUP_DIR/.remote.json`, written atomically, so `list` and `status`
/// never wait on the network.
public struct RemoteState: Sendable, Equatable {
    public struct Pending: Sendable, Equatable {
        public var filename: String
        public var since: Date
    }

    public struct UploadError: Sendable, Equatable {
        public var at: Date
        public var message: String
    }

    public var pending: [Pending] = []
    public var lastError: UploadError?
    public var lastUpload: Date?
    /// When the index was last refreshed from the remote (an upload, a remote cleanup, `sync`).
    public var refreshedAt: Date?
    /// The complete backups on the remote, newest first.
    public var remoteBackups: [BackupMetadata] = []

    public init() {}

    public var pendingNames: Set<String> { Set(pending.map(\.filename)) }
    public var remoteNames: Set<String> { Set(remoteBackups.map(\.filename)) }

    mutating func addPending(_ name: String, at: Date) {
        guard !pending.contains(where: { $0.filename == name }) else { return }
        pending.append(Pending(filename: name, since: at))
        pending.sort { $0.since != $1.since ? $0.since < $1.since : $0.filename < $1.filename }
    }

    var json: JSON {
        .object([
            ("pending", .array(pending.map {
                .object([("filename", .string($0.filename)), ("since", .string(Timestamp.iso8601($0.since)))])
            })),
            ("last_error", lastError.map {
                .object([("at", .string(Timestamp.iso8601($0.at))), ("message", .string($0.message))])
            } ?? .null),
            ("last_upload", lastUpload.map { .string(Timestamp.iso8601($0)) } ?? .null),
            ("refreshed_at", refreshedAt.map { .string(Timestamp.iso8601($0)) } ?? .null),
            ("backups", .array(remoteBackups.map(\.json))),
        ])
    }

    static func load(_ store: BackupStore) -> RemoteState {
        var state = RemoteState()
        guard let bytes = try? FileSystem.readSmallFile(store.remoteStatePath, limit: 64 << 20),
              let json = try? JSON.parse(bytes) else { return state }
        func date(_ value: JSON?) -> Date? { value?.stringValue.flatMap(Timestamp.parse) }
        if case let .array(items)? = json["pending"] {
            state.pending = items.compactMap { item in
                guard let name = item["filename"]?.stringValue, let since = date(item["since"]) else { return nil }
                return Pending(filename: name, since: since)
            }
        }
        if let error = json["last_error"], let at = date(error["at"]) {
            state.lastError = UploadError(at: at, message: error["message"]?.stringValue ?? "")
        }
        state.lastUpload = date(json["last_upload"])
        state.refreshedAt = date(json["refreshed_at"])
        if case let .array(items)? = json["backups"] {
            state.remoteBackups = items.compactMap { try? BackupMetadata.parse(Array($0.serialized().utf8)) }
        }
        return state
    }

    /// Loads, changes and saves the state; only under the directory's lock (uploads, cleanup and sync hold it).
    static func update(_ store: BackupStore, _ change: (inout RemoteState) -> Void) throws {
        var state = load(store)
        change(&state)
        try store.writeSmallFile(".remote.json", Array(state.json.serialized().utf8))
    }
}

extension BackupStore {
    var remoteStatePath: String { "\(directory)/.remote.json" }
}
