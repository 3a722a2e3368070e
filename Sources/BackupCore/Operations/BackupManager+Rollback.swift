import Foundation

/// `rollback`: swaps the newest kept previous database of the target (`<target>_before_*`, pgbackup's) back in,
/// in one transaction like the swap's: the current target becomes `<target>_before_<now>`, so a rollback is itself
/// undone by another rollback.
extension BackupManager {
    public func rollback(targetDatabase: String? = nil, terminateConnections: Bool = false,
                         user: String? = nil) throws -> RollbackResult {
        let target = targetDatabase ?? configuration.postgres.database
        if let problem = DatabaseName.problem(target) { throw BackupError.invalidInput("invalid target database: \(problem)") }
        if let problem = SwapNames.problem(target: target) { throw BackupError.invalidInput(problem) }
        let lock = try store.lock("rollback", now: clock.now())
        defer { withExtendedLifetime(lock) {} }
        let started = Date()
        do { return try Interruption.shared.during("rollback") {
            let place = try swapPlace(target: target)
            let dropped = try dropSwapLeftovers(target: target, place: place)
            let databases = try tools.databasesWithComments(database: place.maintenance)
            guard let previous = databases.filter({ SwapMarker.isOurs($0.name, comment: $0.comment, kind: .before, target: target) })
                .max(by: { $0.name < $1.name }) else {
                throw BackupError.invalidInput("no previous database of '\(target)' is kept, so there is nothing to roll "
                    + "back to: rollback swaps back the database a 'restore --swap' moved aside (BACKUP_KEEP_PREVIOUS_DATABASES)")
            }
            logger.info("rolling back", metadata: ["target": "\(target)", "previous": "\(previous.name)", "user": "\(user ?? "-")"])
            let at = try freeStamp(target: target, at: clock.now(), place: place)
            let outgoing = SwapNames.name(.before, target: target, at: at)
            let current = databases.first { $0.name == target }?.comment
            let marker = SwapMarker(target: target, backup: "rollback to \(previous.name)", at: at, originalComment: current)
            var result = RollbackResult(targetDatabase: target, restoredDatabase: previous.name, previousDatabase: outgoing)
            result.terminatedSessions = try endSessions(on: [target, previous.name], terminate: terminateConnections,
                                                        place: place)
            result.swapSeconds = try swapIn(previous.name, as: target, outgoing: outgoing, outgoingMarker: marker,
                                            targetComment: SwapMarker.parse(previous.comment)?.originalComment, place: place,
                                            operation: "rollback")
            result.droppedDatabases = dropped + keepPrevious(target: target, swapped: PreviousDatabase(
                name: outgoing, target: target, at: at, replacedBy: previous.name), place: place)
            if configuration.keepPreviousDatabases == 0 { result.previousDatabase = nil }
            result.durationSeconds = Date().timeIntervalSince(started)
            logger.info("rollback finished", metadata: ["target": "\(target)", "restored": "\(previous.name)"])
            recordSuccess(operation: "rollback")
            return result
        } } catch {
            recordFailure(operation: "rollback", error: error)
            throw error
        }
    }

    /// The other sessions on each of `databases`: refused naming them, or (`terminate`) ended.
    private func endSessions(on databases: [String], terminate: Bool, place: SwapPlace) throws -> [DatabaseSession]? {
        var ended: [DatabaseSession] = []
        for database in databases {
            let sessions = try tools.sessions(on: database, database: place.maintenance)
            guard terminate else {
                if !sessions.isEmpty { throw BackupError.databaseInUse(database: database, sessions: sessions) }
                continue
            }
            ended += try tools.terminateSessions(database: database, serverVersion: place.server.number)
        }
        return terminate ? ended : nil
    }
}

/// What a rollback did.
public struct RollbackResult: Sendable, Equatable {
    public var targetDatabase: String
    /// The previous database brought back under the target's name.
    public var restoredDatabase: String
    /// The name the target had before now carries (nil when BACKUP_KEEP_PREVIOUS_DATABASES=0 dropped it).
    public var previousDatabase: String?
    public var swapSeconds: Double = 0
    public var durationSeconds: Double = 0
    public var droppedDatabases: [String] = []
    public var terminatedSessions: [DatabaseSession]? = nil

    public var json: JSON {
        .object([
            ("success", .bool(true)),
            ("message", .string("Database '\(targetDatabase)' rolled back to \(restoredDatabase)")),
            ("target_database", .string(targetDatabase)),
            ("restored_database", .string(restoredDatabase)),
            ("previous_database", previousDatabase.map(JSON.string) ?? .null),
            ("swap_seconds", .double(RestoreResult.rounded(swapSeconds))),
            ("duration_seconds", .double(RestoreResult.rounded(durationSeconds))),
            ("dropped_databases", .array(droppedDatabases.map(JSON.string))),
        ] + (terminatedSessions.map { [("terminated_sessions", JSON.array($0.map(\.json)))] } ?? []))
    }
}
