import Foundation

/// What a scheduler run should do, decided from the settings, the backups on disk and the time.
public enum ScheduleDecision: Sendable, Equatable {
    /// `BACKUP_ENABLED` is false.
    case disabled
    /// The newest scheduled backup is younger than the interval; the next one is due at `next`.
    case notDue(last: String, next: Date)
    /// The newest scheduled backup is dated after now (the clock was stepped back). It holds the schedule off
    /// until `next`, at most one interval after the scheduler first saw it, then it no longer counts.
    case heldByFutureBackup(last: String, createdAt: Date, next: Date)
    /// A backup should be made now.
    case due(reason: String)

    /// Only scheduled backups of `database` (POSTGRES_DB; nil = every database) count: a manual or pre-restore
    /// backup, or another database's backup in the same directory, does not push the schedule back.
    /// `futureSeenAt` is when a scheduler run first saw the newest future-dated scheduled backup (nil: this run).
    public static func decide(enabled: Bool, intervalHours: Int, backups: [BackupMetadata], database: String? = nil,
                              now: Date, futureSeenAt: Date? = nil) -> ScheduleDecision {
        guard enabled else { return .disabled }
        let interval = Double(intervalHours) * 3600
        let scheduled = backups.filter { $0.kind == .scheduled && (database.map($0.isBackup(of:)) ?? true) }
        var ignoredFuture: BackupMetadata?
        if let future = newestFutureDated(scheduled, now: now) {
            // A first sighting recorded "later" than now means the clock went back again: the hold restarts now.
            let since = min(futureSeenAt ?? now, now)
            let next = since.addingTimeInterval(interval)
            if now < next { return .heldByFutureBackup(last: future.filename, createdAt: future.createdAt, next: next) }
            ignoredFuture = future
        }
        let past = scheduled.filter { $0.createdAt <= now }.max { $0.createdAt < $1.createdAt }
        guard let last = past else {
            if let future = ignoredFuture {
                return .due(reason: "no scheduled backup yet, apart from \(future.filename) dated in the future")
            }
            return .due(reason: "no scheduled backup yet")
        }
        let next = last.createdAt.addingTimeInterval(interval)
        if now < next { return .notDue(last: last.filename, next: next) }
        return .due(reason: "the last scheduled backup is older than \(intervalHours) h")
    }

    /// The newest scheduled backup when it is dated after `now`, else nil.
    static func newestFutureDated(_ scheduled: [BackupMetadata], now: Date) -> BackupMetadata? {
        guard let newest = scheduled.max(by: { $0.createdAt < $1.createdAt }), newest.createdAt > now else { return nil }
        return newest
    }
}
