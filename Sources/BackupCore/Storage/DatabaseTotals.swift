import Foundation

/// Per database: how many complete backups, their bytes, and the newest one's size and duration. What the metrics
/// need beyond `ListingSummary`, cached beside it (`ListingCache.totals()`), so a scrape costs what a status does.
public struct DatabaseTotals: Sendable, Equatable {
    public struct Totals: Sendable, Equatable {
        public var count: Int
        public var sizeBytes: Int64
        public var lastCreatedAt: Date
        public var lastSizeBytes: Int64
        /// nil for a backup of the old tool, whose sidecar has no duration.
        public var lastDurationSeconds: Double?
    }

    /// Keyed by the sidecar's `database`.
    public var byDatabase: [String: Totals]

    init(_ listing: BackupStore.Listing) {
        var totals: [String: Totals] = [:]
        // Newest first, so the first backup seen of a database is its last.
        for backup in listing.backups {
            if var entry = totals[backup.database] {
                entry.count += 1
                entry.sizeBytes += backup.sizeBytes
                totals[backup.database] = entry
            } else {
                totals[backup.database] = Totals(count: 1, sizeBytes: backup.sizeBytes, lastCreatedAt: backup.createdAt,
                                                 lastSizeBytes: backup.sizeBytes,
                                                 lastDurationSeconds: backup.durationSeconds)
            }
        }
        byDatabase = totals
    }

    var json: JSON {
        .object(byDatabase.sorted { $0.key < $1.key }.map { database, totals in
            (database, .object([
                ("count", .int(Int64(totals.count))), ("size_bytes", .int(totals.sizeBytes)),
                ("last_created_at", .string(Timestamp.iso8601(totals.lastCreatedAt))),
                ("last_size_bytes", .int(totals.lastSizeBytes)),
                ("last_duration_seconds", totals.lastDurationSeconds.map(JSON.double) ?? .null),
            ]))
        })
    }

    init?(json: JSON) {
        guard case let .object(entries) = json else { return nil }
        var totals: [String: Totals] = [:]
        for (database, value) in entries {
            guard let count = value["count"]?.int64Value, let size = value["size_bytes"]?.int64Value,
                  let created = value["last_created_at"]?.stringValue.flatMap(Timestamp.parse),
                  let lastSize = value["last_size_bytes"]?.int64Value else { return nil }
            let duration = value["last_duration_seconds"]
            totals[database] = Totals(count: Int(count), sizeBytes: size, lastCreatedAt: created, lastSizeBytes: lastSize,
                                      lastDurationSeconds: duration?.isNull == false ? duration?.doubleValue : nil)
        }
        byDatabase = totals
    }
}

extension ListingCache {
    /// The per-database totals, cached like the summary.
    func totals() throws -> DatabaseTotals {
        let bytes = try cached(kind: "totals") { Array(DatabaseTotals(try store.listing()).json.serialized().utf8) }
        if let json = try? JSON.parse(bytes), let totals = DatabaseTotals(json: json) { return totals }
        return DatabaseTotals(try store.listing())
    }
}
