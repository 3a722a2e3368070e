import Foundation

extension BackupStatus {
    /// How late a due scheduled run may be before a skipped run makes status unhealthy: the timer fires every
    /// 15 minutes (with a random delay), so an hour is several runs that found the lock busy.
    static let overdueGrace: TimeInterval = 3600

    /// Every reason status is not healthy, as whole sentences for a person; empty when healthy.
    public var unhealthyReasons: [String] {
        var reasons: [String] = []
        let database = configuration.postgres.database
        let interval = Double(configuration.intervalHours) * 3600
        if let last = lastBackup {
            let age = now.timeIntervalSince(last.createdAt)
            if age > 2 * interval {
                reasons.append("The newest backup of '\(database)' (\(last.filename)) is \(BackupDating.describe(age)) old, "
                    + "more than twice BACKUP_INTERVAL_HOURS (\(configuration.intervalHours) h).")
            }
        } else {
            reasons.append(summary.count == 0
                ? "There is no backup yet: run 'pgbackup create' or wait for the scheduler."
                : "There is no backup of '\(database)' (POSTGRES_DB) yet, only of other databases.")
        }
        if let failure = unclearedFailure {
            reasons.append("The last \(failure.operation) failed at \(Timestamp.iso8601(failure.at)): \(failure.message).")
        }
        if let failedDrill { reasons.append(failedDrill) }
        if let skipped = overdueSkippedRun {
            reasons.append("A scheduled run at \(Timestamp.iso8601(skipped.at)) made no backup (\(skipped.reason)) "
                + "and the scheduled backup is now overdue.")
        }
        if let newest = summary.last, let future = BackupDating.inFuture(newest.createdAt, now: now) {
            reasons.append("Backup \(newest.filename) is dated in the future: \(future); scheduled backups "
                + "wait for it, so check the clock and that sidecar.")
        }
        for (name, reason) in summary.misdated.sorted(by: { $0.key > $1.key }) {
            reasons.append("Backup \(name): \(reason).")
        }
        if let directoryProblem { reasons.append("\(directoryProblem): backups and failures cannot be recorded.") }
        return reasons + remoteReasons
    }

    /// The last failure of a create (scheduled runs included) or restore, unless a create or restore succeeded
    /// after it (or a newer backup of the configured database exists): the system works again.
    var unclearedFailure: RunState.Failure? {
        // An upload's or a sync's failure is the remote's: the pending-upload rule (`remoteReasons`) judges it. They
        // are no longer recorded as `lastFailure`; a state file written before that may still hold one.
        guard let failure = state.lastFailure, !["upload", "sync"].contains(failure.operation) else { return nil }
        // A failed drill is also cleared by a drill that passed after it.
        for operation in failure.operation == "drill" ? ["create", "restore", "drill"] : ["create", "restore"] {
            if let success = state.lastSuccess(of: operation), success > failure.at { return nil }
        }
        if let last = lastBackup, last.createdAt > failure.at { return nil }
        return failure
    }

    /// Why the last restore drill failed, unless that failure is already the uncleared failure above; it stays
    /// until a drill passes.
    var failedDrill: String? {
        guard let drill = state.lastDrill, !drill.passed, unclearedFailure?.operation != "drill" else { return nil }
        let why = drill.error ?? drill.mismatches.map {
            "\($0.table) expected \($0.expected) rows, found \($0.found.map(String.init) ?? "no such table")"
        }.joined(separator: "; ")
        return "The last restore drill, of \(drill.backup) at \(Timestamp.iso8601(drill.at)), failed: \(why)."
    }

    /// The last skipped scheduler run, when scheduled backups are on and none has been made since it, and the
    /// next one is more than `overdueGrace` late.
    var overdueSkippedRun: RunState.SkippedRun? {
        guard configuration.enabled, let skipped = state.lastSkippedRun else { return nil }
        let interval = Double(configuration.intervalHours) * 3600
        if let scheduled = summary.lastScheduled {
            guard skipped.at > scheduled.createdAt,
                  now.timeIntervalSince(scheduled.createdAt) > interval + Self.overdueGrace else { return nil }
        } else {
            guard now.timeIntervalSince(skipped.at) > Self.overdueGrace else { return nil }
        }
        return skipped
    }
}
