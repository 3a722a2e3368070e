import Foundation

/// The `status` answer: the seed's fields plus health.
public struct BackupStatus: Sendable {
    public let configuration: Configuration
    public let summary: ListingSummary
    public let state: RunState
    public let running: LockHolder?
    public let now: Date

    public var lastBackup: ListingSummary.Last? { summary.last }

    /// The newest backup is recent enough (within 2 × the interval) and no create failed after it.
    public var healthy: Bool {
        guard let last = lastBackup else { return false }
        if now.timeIntervalSince(last.createdAt) > 2 * Double(configuration.intervalHours) * 3600 { return false }
        if let failure = state.lastFailure, failure.at > last.createdAt, failure.operation == "create" { return false }
        return true
    }

    public var json: JSON {
        .object([
            ("enabled", .bool(configuration.enabled)),
            ("backup_directory", .string(configuration.backupDirectory)),
            ("retention_days", .int(Int64(configuration.retentionDays))),
            ("max_backups", .int(Int64(configuration.maxCount))),
            ("interval_hours", .int(Int64(configuration.intervalHours))),
            ("total_backups", .int(Int64(summary.count))),
            ("total_size_bytes", .int(summary.totalSizeBytes)),
            ("last_backup", lastBackup.map {
                .object([("filename", .string($0.filename)), ("created_at", .string(Timestamp.iso8601($0.createdAt))),
                         ("kind", $0.kind.map { .string($0.rawValue) } ?? .null)])
            } ?? .null),
            ("last_failure", state.lastFailure?.json ?? .null),
            ("running", running?.json ?? .null),
            ("healthy", .bool(healthy)),
            ("orphans", .array(summary.orphans.map(JSON.string))),
            ("damaged", .array(summary.damaged.sorted { $0.key > $1.key }.map {
                .object([("filename", .string($0.key)), ("error", .string($0.value))])
            })),
        ])
    }
}
