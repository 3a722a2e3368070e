import Foundation

/// What a restore drill did: its record (as the sidecar and status keep it) and what it found.
public struct DrillResult: Sendable, Equatable {
    public var record: DrillRecord
    /// The scratch database it restored into (dropped again before the result was returned).
    public var scratchDatabase: String
    /// The row counts of the restored copy; nil when the restore failed.
    public var found: [String: Int64]?
    /// Whether the sidecar recorded counts to compare with (a backup made before pgbackup counted rows has none).
    public var compared: Bool
    /// Scratch databases left by earlier drills that were killed, dropped first.
    public var droppedLeftovers: [String]

    public init(record: DrillRecord, scratchDatabase: String, found: [String: Int64]?, compared: Bool,
                droppedLeftovers: [String] = []) {
        self.record = record
        self.scratchDatabase = scratchDatabase
        self.found = found
        self.compared = compared
        self.droppedLeftovers = droppedLeftovers
    }

    /// The tables compared with the sidecar's counts: the restored copy's, without a zero large-object count.
    public var tablesFound: [(String, Int64)] {
        (found ?? [:]).filter { $0.key != TableRowCounter.largeObjectsKey || $0.value > 0 }.sorted { $0.key < $1.key }
    }

    /// One sentence for a person (lower-case, as error descriptions are, when the drill failed).
    public var message: String {
        let backup = record.backup
        if let error = record.error {
            return "drill of '\(backup)' failed: the restore into a scratch database failed: \(error)"
        }
        if !record.mismatches.isEmpty {
            let listed = record.mismatches.map { "\($0.table) expected \($0.expected), found \($0.found.map(String.init) ?? "no such table")" }
            return "drill of '\(backup)' failed: \(listed.count) row count\(listed.count == 1 ? "" : "s") differ from the "
                + "backup's: " + listed.joined(separator: "; ")
        }
        if !compared {
            return "Backup \(backup) restored into a scratch database (\(tablesFound.count) tables); it has no recorded "
                + "row counts, so there was nothing to compare them with"
        }
        return "Backup \(backup) restored into a scratch database and every table's row count matches the backup's "
            + "(\(tablesFound.count) tables)"
    }

    public var json: JSON {
        .object([
            ("success", .bool(record.passed)),
            ("message", .string(message)),
            ("backup_filename", .string(record.backup)),
            ("passed", .bool(record.passed)),
            ("drilled_at", .string(Timestamp.iso8601(record.at))),
            ("duration_seconds", .double((record.durationSeconds * 1000).rounded() / 1000)),
            ("scratch_database", .string(scratchDatabase)),
            ("compared", .bool(compared)),
            ("tables", found == nil ? .null : .object(tablesFound.map { ($0.0, JSON.int($0.1)) })),
            ("mismatches", .array(record.mismatches.map(\.json))),
            ("error", record.error.map(JSON.string) ?? .null),
            ("dropped_leftovers", .array(droppedLeftovers.map(JSON.string))),
        ])
    }

    /// Each table whose count in the restored copy differs from the sidecar's, by name; large objects found when
    /// none were recorded count as a difference too. Nothing when the sidecar recorded no counts.
    static func mismatches(expected: [String: Int64]?, found: [String: Int64]) -> [DrillRecord.Mismatch] {
        guard var expected else { return [] }
        let largeObjects = TableRowCounter.largeObjectsKey
        if expected[largeObjects] == nil, (found[largeObjects] ?? 0) > 0 { expected[largeObjects] = 0 }
        return expected.sorted { $0.key < $1.key }.compactMap { table, rows in
            let counted = table == largeObjects ? found[table] ?? 0 : found[table]
            return counted == rows ? nil : DrillRecord.Mismatch(table: table, expected: rows, found: counted)
        }
    }
}
