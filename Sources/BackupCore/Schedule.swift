import Foundation

/// What a scheduler run should do, decided from the settings, the backups on disk and the time.
public enum ScheduleDecision: Sendable, Equatable {
    /// `BACKUP_ENABLED` is false.
    case disabled
    /// The newest scheduled backup is younger than the interval; the next one is due at `next`.
    case notDue(last: String, next: Date)
    /// A backup should be made now.
    case due(reason: String)

    /// Only scheduled backups count: a manual or pre-restore backup does not push the schedule back.
    public static func decide(enabled: Bool, intervalHours: Int, backups: [BackupMetadata], now: Date) -> ScheduleDecision {
        guard enabled else { return .disabled }
        let scheduled = backups.filter { $0.kind == .scheduled }.max { $0.createdAt < $1.createdAt }
        guard let last = scheduled else { return .due(reason: "no scheduled backup yet") }
        let next = last.createdAt.addingTimeInterval(Double(intervalHours) * 3600)
        if now < next { return .notDue(last: last.filename, next: next) }
        return .due(reason: "the last scheduled backup is older than \(intervalHours) h")
    }
}

extension BackupManager {
    /// The scheduler's decision for now.
    public func scheduleDecision() throws -> ScheduleDecision {
        ScheduleDecision.decide(enabled: configuration.enabled, intervalHours: configuration.intervalHours,
                                backups: try store.listing().backups, now: clock.now())
    }
}
