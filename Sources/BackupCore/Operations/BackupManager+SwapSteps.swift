import Foundation

/// Where a swap or rollback talks to the server from: a maintenance database (`postgres`, else `template1`),
/// never one of the databases it renames.
struct SwapPlace {
    var maintenance: String
    var server: (text: String, number: Int)
}

/// The steps `restore --swap` and `rollback` share.
extension BackupManager {
    /// The maintenance database, the server's version, and checks: the target exists, the role may create databases.
    func swapPlace(target: String) throws -> SwapPlace {
        var lastError: Error = BackupError.invalidInput("no maintenance database")
        for maintenance in ["postgres", "template1"] where maintenance != target {
            do {
                let names = try tools.databaseNames(database: maintenance)
                guard names.contains(target) else {
                    throw BackupError.invalidInput("the database '\(target)' does not exist; restore --swap makes the "
                        + "new database like the target (owner, encoding, settings, grants), so the target must exist: "
                        + "create it, or restore without --swap")
                }
                let privilege = try tools.createDatabasePrivilege(database: maintenance)
                guard privilege.allowed else {
                    throw BackupError.invalidInput("role '\(privilege.role)' (POSTGRES_USER) may not create databases, "
                        + "which restore --swap needs for the new database; grant it with ALTER ROLE \"\(privilege.role)\" "
                        + "CREATEDB; (as a superuser), or restore without --swap")
                }
                return SwapPlace(maintenance: maintenance, server: try tools.serverVersion(database: maintenance))
            } catch let error as BackupError {
                if case .invalidInput = error { throw error }
                lastError = error
            }
        }
        throw lastError
    }

    /// Drops `<target>_new_*` databases that are pgbackup's: carrying its marker, or recorded in the state file
    /// before their CREATE DATABASE (killed before the marker was set). Under the lock no swap runs, so each is
    /// what a killed swap left (never swapped in). Nothing else is ever dropped.
    func dropSwapLeftovers(target: String, place: SwapPlace) throws -> [String] {
        let recorded = Set(RunState.load(store).swapDatabasesInProgress)
        let leftovers = try tools.databasesWithComments(database: place.maintenance).filter {
            SwapMarker.isOurs($0.name, comment: $0.comment, kind: .new, target: target)
                || ($0.name != target && recorded.contains($0.name) && SwapNames.matches($0.name, kind: .new, target: target))
        }.map(\.name)
        for leftover in leftovers {
            logger.warning("dropping a database left by an earlier, killed restore --swap", metadata: ["database": "\(leftover)"])
            try tools.dropScratchDatabase(leftover, database: place.maintenance, serverVersion: place.server.number)
        }
        try RunState.update(store) { state in
            state.swapDatabasesInProgress.removeAll { SwapNames.matches($0, kind: .new, target: target) }
        }
        return leftovers
    }

    /// Records (`true`) or forgets a `<db>_new_*` database of a running swap in the state file.
    func recordSwapInProgress(_ name: String, _ inProgress: Bool) throws {
        try RunState.update(store) { state in
            state.swapDatabasesInProgress.removeAll { $0 == name }
            if inProgress { state.swapDatabasesInProgress.append(name) }
        }
    }

    /// Drops `database` after a failure, even after a signal; a failure to drop is logged (the next run drops it).
    func dropSwapDatabase(_ database: String, place: SwapPlace) {
        do {
            try Interruption.shared.cleaningUp {
                try tools.dropScratchDatabase(database, database: place.maintenance, serverVersion: place.server.number)
            }
            try? recordSwapInProgress(database, false)
        } catch {
            logger.error("could not drop the new database; the next restore --swap drops it",
                         metadata: ["database": "\(database)", "error": "\(error)"])
        }
    }

    /// The one renaming transaction: `target` → `outgoing` (marked as pgbackup's previous database, with the
    /// target's comment kept in the marker), `incoming` → `target` (given that comment back). From the moment
    /// it is sent a signal no longer stops it. Returns its seconds.
    func swapIn(_ incoming: String, as target: String, outgoing: String, outgoingMarker marker: SwapMarker,
                targetComment: String?, place: SwapPlace, operation: String = "restore") throws -> Double {
        try Interruption.shared.enterCommit(operation)
        defer { Interruption.shared.leaveCommit() }
        do {
            return try tools.swapDatabases(target: target, outgoing: outgoing, incoming: incoming,
                                           outgoingComment: marker.comment, targetComment: targetComment,
                                           database: place.maintenance)
        } catch let BackupError.restoreFailed(message) where message.contains("being accessed by other users") {
            // A session connected between the check and the rename: the transaction rolled back.
            throw BackupError.databaseInUse(database: target, sessions: (try? tools.sessions(on: target, database: place.maintenance)) ?? [])
        }
    }

    /// `at`, or the first second after it, for which neither `<target>_new_` nor `<target>_before_` exists yet.
    func freeStamp(target: String, at: Date, place: SwapPlace) throws -> Date {
        let names = Set(try tools.databaseNames(database: place.maintenance))
        var at = at
        while names.contains(SwapNames.name(.new, target: target, at: at))
                || names.contains(SwapNames.name(.before, target: target, at: at)) {
            at = at.addingTimeInterval(1)
        }
        return at
    }

    /// Keeps the newest BACKUP_KEEP_PREVIOUS_DATABASES previous databases of `target` (pgbackup's own), drops the
    /// older ones, and records the kept ones for `status`. A failure here is logged: the swap itself is done.
    func keepPrevious(target: String, swapped: PreviousDatabase, place: SwapPlace) -> [String] {
        var dropped: [String] = []
        do {
            let ours = try tools.databasesWithComments(database: place.maintenance)
                .filter { SwapMarker.isOurs($0.name, comment: $0.comment, kind: .before, target: target) }
                .map(\.name).sorted(by: >)
            let keep = Array(ours.prefix(configuration.keepPreviousDatabases))
            for old in ours.dropFirst(configuration.keepPreviousDatabases) {
                logger.info("dropping an older previous database", metadata: ["database": "\(old)"])
                try tools.dropScratchDatabase(old, database: place.maintenance, serverVersion: place.server.number)
                dropped.append(old)
            }
            try RunState.update(store) { state in
                let known = state.previousDatabases.filter { $0.target == target && $0.name != swapped.name }
                let kept = keep.map { name in
                    name == swapped.name ? swapped : known.first { $0.name == name }
                        ?? PreviousDatabase(name: name, target: target, at: clock.now(), replacedBy: "")
                }
                state.previousDatabases = (kept + state.previousDatabases.filter { $0.target != target })
                    .sorted { $0.at > $1.at }
            }
        } catch {
            logger.error("could not drop or record the previous databases", metadata: ["target": "\(target)", "error": "\(error)"])
        }
        return dropped
    }
}
