/// Where each backup is: `["local"]`, `["local","remote"]`, or `["remote"]` for a backup whose local copy is gone
/// (expired, or a new machine after `sync`). Read from the local index of the remote, never from the network.
extension BackupListing {
    public struct LocatedEntry: Sendable {
        public var entry: BackupEntry
        public var locations: [String]

        public var json: JSON {
            guard case var .object(fields) = entry.json else { return entry.json }
            fields.append(("locations", .array(locations.map(JSON.string))))
            return .object(fields)
        }
    }

    /// Complete backups (local and remote-only) newest first, then damaged ones.
    public var locatedEntries: [LocatedEntry] {
        let onRemote = remote.map { $0.remoteNames.subtracting($0.pendingNames) } ?? []
        let local = Set(backups.map(\.filename))
        var complete = backups.map {
            LocatedEntry(entry: .complete($0), locations: onRemote.contains($0.filename) ? ["local", "remote"] : ["local"])
        }
        let damagedNames = Set(damaged.map(\.filename))
        complete += (remote?.remoteBackups ?? []).filter { !local.contains($0.filename) && !damagedNames.contains($0.filename) }
            .map { LocatedEntry(entry: .complete($0), locations: ["remote"]) }
        complete.sort {
            guard case let .complete(a) = $0.entry, case let .complete(b) = $1.entry else { return false }
            return a.createdAt != b.createdAt ? a.createdAt > b.createdAt : a.filename > b.filename
        }
        return complete + damaged.map { LocatedEntry(entry: .damaged(filename: $0.filename, error: $0.error), locations: ["local"]) }
    }

    /// The backups only on the remote, newest first.
    public var remoteOnly: [BackupMetadata] {
        locatedEntries.compactMap { entry in
            guard entry.locations == ["remote"], case let .complete(metadata) = entry.entry else { return nil }
            return metadata
        }
    }
}
