import Foundation

/// Whether a scheduler run drills after its backup: every BACKUP_DRILL_INTERVAL_HOURS (0 = never), counted from
/// the last drill of any backup, passed or failed (a failed one is retried an interval later; status stays
/// unhealthy meanwhile).
public enum DrillSchedule {
    public static func isDue(intervalHours: Int, lastDrill: Date?, now: Date) -> Bool {
        guard intervalHours > 0 else { return false }
        guard let lastDrill else { return true }
        let age = now.timeIntervalSince(lastDrill)
        // A last drill dated after now means the clock went back: drill rather than wait for an unknown time.
        return age < 0 || age >= Double(intervalHours) * 3600
    }
}

extension BackupManager {
    /// Whether the scheduler should drill now, from the state file's last drill.
    public func drillIsDue() -> Bool {
        DrillSchedule.isDue(intervalHours: configuration.drillIntervalHours, lastDrill: RunState.load(store).lastDrill?.at,
                            now: clock.now())
    }
}
