import Foundation

/// The metrics `GET /api/backups/metrics` serves and the scheduler writes for node_exporter, rendered from what
/// `status` reads (the run state, the cached listing summary and totals, the lock): nothing is kept between
/// scrapes. Each group of families is one function in `sections`; a new group (drills, pending uploads) is one
/// more function and one more line there.
public struct BackupMetrics: Sendable {
    public let status: BackupStatus
    public let totals: DatabaseTotals

    public init(status: BackupStatus, totals: DatabaseTotals) {
        self.status = status
        self.totals = totals
    }

    static let sections: [@Sendable (BackupMetrics, inout MetricsText) -> Void] = [
        { $0.addHealth(&$1) },
        { $0.addOperations(&$1) },
        { $0.addBackups(&$1) },
        { $0.addDirectory(&$1) },
        { $0.addNotifications(&$1) },
        { $0.addDrill(&$1) },
        { $0.addUploads(&$1) },
    ]

    /// The exposition, text format 0.0.4.
    public var text: String {
        var out = MetricsText()
        for section in Self.sections { section(self, &out) }
        return out.rendered
    }

    private func addHealth(_ out: inout MetricsText) {
        out.add("pgbackup_healthy", help: "1 when status is healthy (no unhealthy reason), else 0.",
                value: status.healthy ? 1 : 0)
        out.add("pgbackup_unhealthy_reasons", help: "Number of reasons status gives for not being healthy.",
                value: Double(status.unhealthyReasons.count))
        out.add("pgbackup_scheduled_backups_enabled", help: "1 when the scheduler makes backups (BACKUP_ENABLED).",
                value: status.configuration.enabled ? 1 : 0)
        out.add("pgbackup_backup_interval_seconds", help: "How often the scheduler makes a backup (BACKUP_INTERVAL_HOURS).",
                value: Double(status.configuration.intervalHours * 3600))
    }

    private func addOperations(_ out: inout MetricsText) {
        let state = status.state
        out.add("pgbackup_last_success_timestamp_seconds",
                help: "When each operation last succeeded, in seconds since the epoch.",
                Self.byOperation(state.lastSuccesses))
        var failures = state.lastFailures
        // A state file from before per-operation failure times has only the newest failure.
        if let last = state.lastFailure, failures[last.operation] == nil { failures[last.operation] = last.at }
        out.add("pgbackup_last_failure_timestamp_seconds",
                help: "When each operation last failed, in seconds since the epoch.", Self.byOperation(failures))
        out.add("pgbackup_operation_running", help: "1 while an operation holds the backup directory's lock, else 0.",
                value: status.running == nil ? 0 : 1)
        out.add("pgbackup_operation_started_timestamp_seconds",
                help: "When the running operation started, in seconds since the epoch (absent when idle).",
                status.running.map { [.init([("operation", $0.operation)], $0.since.timeIntervalSince1970)] } ?? [])
    }

    private func addBackups(_ out: inout MetricsText) {
        let databases = totals.byDatabase.sorted { $0.key < $1.key }
        func each(_ value: (DatabaseTotals.Totals) -> Double?) -> [MetricsText.Sample] {
            databases.compactMap { name, totals in value(totals).map { .init([("database", name)], $0) } }
        }
        out.add("pgbackup_backups", help: "Number of complete backups, per database.", each { Double($0.count) })
        out.add("pgbackup_backups_size_bytes", help: "Total size of the complete backups' dump files, per database.",
                each { Double($0.sizeBytes) })
        out.add("pgbackup_last_backup_timestamp_seconds",
                help: "When the newest complete backup of each database was made, in seconds since the epoch.",
                each { $0.lastCreatedAt.timeIntervalSince1970 })
        out.add("pgbackup_last_backup_size_bytes", help: "Size of the newest complete backup's dump file, per database.",
                each { Double($0.lastSizeBytes) })
        out.add("pgbackup_last_backup_duration_seconds",
                help: "How long the newest complete backup took, per database (absent for the old tool's backups).",
                each { $0.lastDurationSeconds })
    }

    private func addDirectory(_ out: inout MetricsText) {
        out.add("pgbackup_orphans", help: "Dump files without a sidecar (incomplete backups) in the backup directory.",
                value: Double(status.summary.orphans.count))
        out.add("pgbackup_damaged_entries", help: "Sidecars in the backup directory that cannot be read.",
                value: Double(status.summary.damaged.count))
        out.add("pgbackup_backup_directory_writable", help: "1 when backups and failures can be recorded, else 0.",
                value: status.directoryProblem == nil ? 1 : 0)
    }

    private func addNotifications(_ out: inout MetricsText) {
        out.add("pgbackup_last_notification_failure_timestamp_seconds",
                help: "When a notification or healthcheck ping last failed, if the last one failed (seconds since the epoch).",
                time: status.state.lastNotificationError?.at)
    }

    private func addDrill(_ out: inout MetricsText) {
        let drill = status.state.lastDrill
        func sample(_ value: (DrillRecord) -> Double) -> [MetricsText.Sample] {
            drill.map { [.init([("backup", $0.backup)], value($0))] } ?? []
        }
        out.add("pgbackup_last_drill_timestamp_seconds",
                help: "When the newest restore drill ran, in seconds since the epoch (absent before the first drill).",
                sample { $0.at.timeIntervalSince1970 })
        out.add("pgbackup_last_drill_passed", help: "1 when the newest restore drill passed, 0 when it failed.",
                sample { $0.passed ? 1 : 0 })
        out.add("pgbackup_last_drill_duration_seconds", help: "How long the newest restore drill took.",
                sample { $0.durationSeconds })
        out.add("pgbackup_last_drill_mismatches", help: "Tables whose row count differed in the newest restore drill.",
                sample { Double($0.mismatches.count) })
    }

    /// Off-site copies, only when `BACKUP_REMOTE` is set (read from the local index, never from the network).
    private func addUploads(_ out: inout MetricsText) {
        guard status.configuration.remote != nil else { return }
        let remote = status.remote ?? RemoteState()
        out.add("pgbackup_pending_uploads", help: "Backups made but not yet copied to BACKUP_REMOTE.",
                value: Double(remote.pending.count))
        out.add("pgbackup_oldest_pending_upload_timestamp_seconds",
                help: "Since when the oldest pending upload has waited, in seconds since the epoch (absent when none).",
                time: remote.pending.first?.since)
        out.add("pgbackup_last_upload_timestamp_seconds",
                help: "When a backup was last copied to BACKUP_REMOTE, in seconds since the epoch.", time: remote.lastUpload)
        out.add("pgbackup_remote_backups", help: "Complete backups on BACKUP_REMOTE, per the local index.",
                value: Double(remote.remoteBackups.count))
        out.add("pgbackup_remote_index_refreshed_timestamp_seconds",
                help: "When the local index of BACKUP_REMOTE was last refreshed, in seconds since the epoch.",
                time: remote.refreshedAt)
    }

    private static func byOperation(_ times: [String: Date]) -> [MetricsText.Sample] {
        times.sorted { $0.key < $1.key }.map { .init([("operation", $0.key)], $0.value.timeIntervalSince1970) }
    }
}
