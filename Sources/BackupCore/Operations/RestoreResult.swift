import Foundation

/// What a restore did.
public struct RestoreResult: Sendable, Equatable {
    public var filename: String
    public var targetDatabase: String
    public var safetyBackup: BackupMetadata?
    public var durationSeconds: Double
    /// The sessions `--terminate-connections` ended; nil when it was not asked for.
    public var terminatedSessions: [DatabaseSession]? = nil

    public var json: JSON {
        .object([
            ("success", .bool(true)),
            ("message", .string("Database '\(targetDatabase)' restored from \(filename)")),
            ("backup_filename", .string(filename)),
            ("target_database", .string(targetDatabase)),
            ("safety_backup", safetyBackup.map { $0.listingJSON } ?? .null),
            ("duration_seconds", .double((durationSeconds * 1000).rounded() / 1000)),
        ] + (terminatedSessions.map { [("terminated_sessions", JSON.array($0.map(\.json)))] } ?? []))
    }
}
