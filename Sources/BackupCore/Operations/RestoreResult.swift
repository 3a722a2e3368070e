import Foundation

/// What a restore did.
public struct RestoreResult: Sendable, Equatable {
    /// How the backup went in: one transaction into the target, or a new database swapped in (`--swap`).
    public enum Mode: String, Sendable { case transaction, swap }

    public var filename: String
    public var targetDatabase: String
    public var safetyBackup: BackupMetadata?
    public var durationSeconds: Double
    /// The sessions `--terminate-connections` ended; nil when it was not asked for.
    public var terminatedSessions: [DatabaseSession]? = nil
    public var mode: Mode = .transaction
    /// A swap's: the name the target had before now carries (nil when BACKUP_KEEP_PREVIOUS_DATABASES=0 dropped it).
    public var previousDatabase: String? = nil
    /// A swap's: the seconds the renaming transaction took.
    public var swapSeconds: Double? = nil
    /// A swap's: databases of earlier killed swaps (`<target>_new_*`) and older previous databases it dropped.
    public var droppedDatabases: [String] = []

    public var json: JSON {
        var fields: [(String, JSON)] = [
            ("success", .bool(true)),
            ("message", .string("Database '\(targetDatabase)' restored from \(filename)")),
            ("backup_filename", .string(filename)),
            ("target_database", .string(targetDatabase)),
            ("mode", .string(mode.rawValue)),
            ("safety_backup", safetyBackup.map { $0.listingJSON } ?? .null),
            ("duration_seconds", .double(Self.rounded(durationSeconds))),
        ]
        if mode == .swap {
            fields += [("previous_database", previousDatabase.map(JSON.string) ?? .null),
                       ("swap_seconds", .double(Self.rounded(swapSeconds ?? 0))),
                       ("dropped_databases", .array(droppedDatabases.map(JSON.string)))]
        }
        return .object(fields + (terminatedSessions.map { [("terminated_sessions", JSON.array($0.map(\.json)))] } ?? []))
    }

    static func rounded(_ seconds: Double) -> Double { (seconds * 1000).rounded() / 1000 }
}
