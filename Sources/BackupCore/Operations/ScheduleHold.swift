import Foundation

/// When a scheduler run first saw a scheduled backup dated in the future, kept in `$BACKUP_DIR/.schedule.json`.
/// The scheduler is a oneshot, so without this record a future-dated backup would hold it off until the clock
/// caught up (days, if the clock was stepped back days); with it, the hold lasts at most one interval.
struct ScheduleHold: Equatable {
    var filename: String
    var firstSeen: Date

    static func path(_ store: BackupStore) -> String { "\(store.directory)/.schedule.json" }

    static func load(_ store: BackupStore) -> ScheduleHold? {
        guard let bytes = try? FileSystem.readSmallFile(path(store)), let json = try? JSON.parse(bytes),
              let filename = json["filename"]?.stringValue,
              let firstSeen = json["first_seen"]?.stringValue.flatMap(Timestamp.parse)
        else { return nil }
        return ScheduleHold(filename: filename, firstSeen: firstSeen)
    }

    /// Written under the directory's lock, whose holder alone may use `.partial/`.
    func save(_ store: BackupStore) throws {
        let json = JSON.object([("filename", .string(filename)), ("first_seen", .string(Timestamp.iso8601(firstSeen)))])
        try FileSystem.writeAtomically(Array(json.serialized().utf8), to: Self.path(store),
                                       tempDirectory: store.partialDirectory)
    }
}

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
