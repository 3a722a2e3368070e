import Foundation

/// The `status` answer: the old tool's fields plus health.
public struct BackupStatus: Sendable {
    public let configuration: Configuration
    public let summary: ListingSummary
    public let state: RunState
    public let running: LockHolder?
    public let now: Date
    /// Why nothing can be written to the backup directory (read-only, no permission), found without writing.
    public var directoryProblem: String?
    /// With off-site copies on: pending uploads, the last upload error and the index (see `BackupStatus+Remote`).
    public var remote: RemoteState? = nil

    /// The newest complete backup of the configured database (`POSTGRES_DB`), whatever else is in the directory.
    public var lastBackup: ListingSummary.Last? { summary.lastByDatabase[configuration.postgres.database] }

    /// Healthy when there is no reason not to be (see `unhealthyReasons`).
    public var healthy: Bool { unhealthyReasons.isEmpty }

    public var json: JSON {
        guard case var .object(fields) = baseJSON else { return baseJSON }
        // Only when new backups are encrypted, so an answer without encryption is the one it always was.
        if configuration.ageRecipients != nil {
            let at = (fields.firstIndex { $0.0 == "compression_level" } ?? fields.count - 1) + 1
            fields.insert(("encryption", .string(BackupMetadata.encryptionScheme)), at: at)
        }
        return .object(fields)
    }

    private var baseJSON: JSON {
        .object([
            ("enabled", .bool(configuration.enabled)),
            ("backup_directory", .string(configuration.backupDirectory)),
            ("retention_days", .int(Int64(configuration.retentionDays))),
            ("max_backups", .int(Int64(configuration.maxCount))),
            ("interval_hours", .int(Int64(configuration.intervalHours))),
            ("total_backups", .int(Int64(summary.count))),
            ("total_size_bytes", .int(summary.totalSizeBytes)),
            ("compression", .string(configuration.codec.rawValue)),
            ("compression_level", .int(Int64(configuration.compressionLevel))),
            ("restore_jobs", .int(Int64(configuration.restoreJobs))),
            ("last_backup", lastBackup.map {
                .object([("filename", .string($0.filename)), ("created_at", .string(Timestamp.iso8601($0.createdAt))),
                         ("kind", $0.kind.map { .string($0.rawValue) } ?? .null)])
            } ?? .null),
            ("last_failure", state.lastFailure?.json ?? .null),
            ("last_skipped_run", state.lastSkippedRun?.json ?? .null),
            ("last_notification_error", state.lastNotificationError?.json ?? .null),
            ("last_drill", state.lastDrill?.json ?? .null),
            ("previous_databases", .array(state.previousDatabases.map(\.json))),
            ("running", running?.json ?? .null),
            ("healthy", .bool(healthy)),
            ("unhealthy_reasons", .array(unhealthyReasons.map(JSON.string))),
            ("orphans", .array(summary.orphans.map(JSON.string))),
            ("damaged", .array(summary.damaged.sorted { $0.key > $1.key }.map {
                .object([("filename", .string($0.key)), ("error", .string($0.value))])
            })),
        ] + remoteFields)
    }
}
