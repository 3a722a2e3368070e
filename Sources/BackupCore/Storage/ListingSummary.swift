import Foundation

/// What `status` needs from a listing, small enough to keep beside the cached list body.
public struct ListingSummary: Sendable, Equatable {
    public struct Last: Sendable, Equatable {
        public var filename: String
        public var createdAt: Date
        public var kind: BackupKind?
    }

    public var count: Int
    public var totalSizeBytes: Int64
    public var last: Last?
    /// The newest complete backup of each database (status reports the configured one's).
    public var lastByDatabase: [String: Last] = [:]
    /// The newest scheduled backup (of any database, as the scheduler decides).
    public var lastScheduled: Last?
    /// Backups whose sidecar's `created_at` disagrees with the time in their name, and why.
    public var misdated: [String: String] = [:]
    public var orphans: [String]
    public var damaged: [String: String]

    init(_ listing: BackupStore.Listing) {
        count = listing.backups.count
        totalSizeBytes = listing.backups.reduce(0) { $0 + $1.sizeBytes }
        last = listing.backups.first.map { Last(filename: $0.filename, createdAt: $0.createdAt, kind: $0.kind) }
        for backup in listing.backups where lastByDatabase[backup.database] == nil {
            lastByDatabase[backup.database] = Last(filename: backup.filename, createdAt: backup.createdAt, kind: backup.kind)
        }
        lastScheduled = listing.backups.first { $0.kind == .scheduled }.map {
            Last(filename: $0.filename, createdAt: $0.createdAt, kind: $0.kind)
        }
        for backup in listing.backups {
            if let reason = BackupDating.nameMismatch(filename: backup.filename, createdAt: backup.createdAt) {
                misdated[backup.filename] = reason
            }
        }
        orphans = listing.orphans
        damaged = Dictionary(listing.damaged.map { ($0.filename, $0.error) }, uniquingKeysWith: { first, _ in first })
    }

    var json: JSON {
        .object([
            ("count", .int(Int64(count))), ("total_size_bytes", .int(totalSizeBytes)),
            ("last", last.map(Self.lastJSON) ?? .null),
            ("last_scheduled", lastScheduled.map(Self.lastJSON) ?? .null),
            ("last_by_database", .object(lastByDatabase.sorted { $0.key < $1.key }.map { ($0.key, Self.lastJSON($0.value)) })),
            ("misdated", .object(misdated.sorted { $0.key < $1.key }.map { ($0.key, JSON.string($0.value)) })),
            ("orphans", .array(orphans.map(JSON.string))),
            ("damaged", .object(damaged.sorted { $0.key < $1.key }.map { ($0.key, JSON.string($0.value)) })),
        ])
    }

    private static func lastJSON(_ last: Last) -> JSON {
        .object([("filename", .string(last.filename)), ("created_at", .string(Timestamp.iso8601(last.createdAt))),
                 ("kind", last.kind.map { .string($0.rawValue) } ?? .null)])
    }

    private static func parseLast(_ last: JSON) -> Last? {
        guard let filename = last["filename"]?.stringValue,
              let created = last["created_at"]?.stringValue.flatMap(Timestamp.parse) else { return nil }
        return Last(filename: filename, createdAt: created, kind: last["kind"]?.stringValue.flatMap(BackupKind.init(rawValue:)))
    }

    init?(json: JSON) {
        guard let count = json["count"]?.int64Value, let total = json["total_size_bytes"]?.int64Value,
              case let .array(orphans)? = json["orphans"], case let .object(damaged)? = json["damaged"],
              case let .object(byDatabase)? = json["last_by_database"], case let .object(misdated)? = json["misdated"]
        else { return nil }
        self.count = Int(count)
        totalSizeBytes = total
        if let last = json["last"], !last.isNull {
            guard let filename = last["filename"]?.stringValue,
                  let created = last["created_at"]?.stringValue.flatMap(Timestamp.parse) else { return nil }
            self.last = Last(filename: filename, createdAt: created,
                             kind: last["kind"]?.stringValue.flatMap(BackupKind.init(rawValue:)))
        }
        self.orphans = orphans.compactMap(\.stringValue)
        self.damaged = Dictionary(damaged.compactMap { key, value in value.stringValue.map { (key, $0) } },
                                  uniquingKeysWith: { first, _ in first })
        if let scheduled = json["last_scheduled"], !scheduled.isNull {
            guard let last = Self.parseLast(scheduled) else { return nil }
            lastScheduled = last
        }
        for (database, value) in byDatabase {
            guard let last = Self.parseLast(value) else { return nil }
            lastByDatabase[database] = last
        }
        for (name, value) in misdated { self.misdated[name] = value.stringValue ?? "" }
    }
}
