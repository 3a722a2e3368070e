import Foundation

/// The off-site part of `status`: read from the local index, never from the network.
extension BackupStatus {
    /// The oldest upload still pending, when it has waited longer than one `BACKUP_INTERVAL_HOURS`.
    var overduePending: RemoteState.Pending? {
        guard let oldest = remote?.pending.first else { return nil }
        return now.timeIntervalSince(oldest.since) > Double(configuration.intervalHours) * 3600 ? oldest : nil
    }

    var remoteReasons: [String] {
        guard let settings = configuration.remote, let remote else { return [] }
        var reasons: [String] = []
        if !remote.pending.isEmpty, let failure = state.lastFailure, failure.operation == "create",
           failure.message.contains("not enough free space") {
            reasons.append("\(remote.pending.count) backup(s) pending upload to \(settings.spec) are kept locally "
                + "whatever retention says (they are the only copies), and the disk is full: run 'pgbackup push' "
                + "once the remote is reachable.")
        }
        guard let oldest = overduePending else { return reasons }
        let error = remote.lastError.map { " The last upload error (\(Timestamp.iso8601($0.at))): \($0.message)." } ?? ""
        return reasons + ["Backup \(oldest.filename) has waited \(BackupDating.describe(now.timeIntervalSince(oldest.since))) "
            + "to be uploaded to \(settings.spec), longer than BACKUP_INTERVAL_HOURS (\(configuration.intervalHours) h); "
            + "\(remote.pending.count) upload(s) pending: run 'pgbackup push' once the remote is reachable." + error]
    }

    /// `remote` in the status answer, only when `BACKUP_REMOTE` is set.
    var remoteFields: [(String, JSON)] {
        guard let settings = configuration.remote else { return [] }
        let state = remote ?? RemoteState()
        return [("remote", .object([
            ("location", .string(settings.spec)),
            ("retention_days", .int(Int64(settings.retentionDays))),
            ("max_backups", .int(Int64(settings.maxCount))),
            ("pending_uploads", .array(state.pending.map {
                .object([("filename", .string($0.filename)), ("since", .string(Timestamp.iso8601($0.since)))])
            })),
            ("last_upload", state.lastUpload.map { .string(Timestamp.iso8601($0)) } ?? .null),
            ("last_upload_error", state.lastError.map {
                .object([("at", .string(Timestamp.iso8601($0.at))), ("message", .string($0.message))])
            } ?? .null),
            ("remote_backups", .int(Int64(state.remoteBackups.count))),
            ("index_refreshed_at", state.refreshedAt.map { .string(Timestamp.iso8601($0)) } ?? .null),
        ]))]
    }
}
