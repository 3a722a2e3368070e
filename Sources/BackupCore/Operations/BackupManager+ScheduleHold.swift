import Foundation

extension BackupManager {
    /// The scheduler's decision for now, from the scheduled backups of POSTGRES_DB only. A newest scheduled backup
    /// dated in the future is logged as a warning, and the first sighting is recorded so the hold ends.
    public func scheduleDecision() throws -> ScheduleDecision {
        let backups = try store.listing().backups
        let now = clock.now()
        let database = configuration.postgres.database
        let scheduled = backups.filter { $0.kind == .scheduled && $0.isBackup(of: database) }
        let future = ScheduleDecision.newestFutureDated(scheduled, now: now)
        let hold = ScheduleHold.load(store)
        let seen = future != nil && hold?.filename == future?.filename ? hold?.firstSeen : nil
        let decision = ScheduleDecision.decide(enabled: configuration.enabled, intervalHours: configuration.intervalHours,
                                               backups: backups, database: database, now: now, futureSeenAt: seen)
        guard configuration.enabled, let future else { return decision }
        logger.warning("the newest scheduled backup is dated in the future: the clock was probably stepped back", metadata: [
            "filename": "\(future.filename)", "created_at": "\(Timestamp.iso8601(future.createdAt))",
            "now": "\(Timestamp.iso8601(now))"])
        if case .heldByFutureBackup = decision, seen.map({ $0 > now }) ?? true {
            recordHold(ScheduleHold(filename: future.filename, firstSeen: now))
        }
        return decision
    }

    /// Best effort: when another operation holds the lock the record waits for the next run, which holds off again.
    private func recordHold(_ hold: ScheduleHold) {
        do {
            let lock = try store.lock("schedule", now: clock.now())
            defer { withExtendedLifetime(lock) {} }
            try hold.save(store)
        } catch {
            logger.warning("could not record when the future-dated backup was first seen", metadata: ["error": "\(error)"])
        }
    }
}
