import Foundation

/// `restore --swap`: the backup goes into a new database beside the target (`<target>_new_<stamp>`, made like it),
/// in ordinary transactions (no lock ceiling), is checked there, and only then swapped in: one transaction renames
/// the target to `<target>_before_<stamp>` and the new database to the target. Before that commit the target is
/// untouched (a failure drops the new database; a kill leaves it for the next run to drop); after it, the target
/// is the restored database. The target name always resolves to one whole database.
extension BackupManager {
    public func restoreSwap(_ name: String, targetDatabase: String? = nil, safetyBackup: Bool = false,
                            terminateConnections: Bool = false, user: String? = nil,
                            progress: ProgressHandler? = nil) throws -> RestoreResult {
        if let problem = SwapNames.problem(target: targetDatabase ?? configuration.postgres.database) {
            throw BackupError.invalidInput(problem)
        }
        return try restoring(name, targetDatabase: targetDatabase, safetyBackup: safetyBackup, progress: progress) {
            metadata, target, started in
            logger.info("restoring backup by swap", metadata: ["filename": "\(name)", "target": "\(target)", "user": "\(user ?? "-")"])
            let identity = try identity(for: metadata, required: true)
            try checkBeforeRestoring(metadata, identity: identity)
            let place = try swapPlace(target: target)
            let header = DumpHeader.read(name, from: store, codec: metadata.compression, decrypting: identity.map { ($0, age) })
            try checkDumpVersion(metadata, header: header, target: target, server: place.server)
            var result = RestoreResult(filename: name, targetDatabase: target, safetyBackup: nil, durationSeconds: 0)
            result.mode = .swap
            result.droppedDatabases = try dropSwapLeftovers(target: target, place: place)
            if safetyBackup { result.safetyBackup = try takeSafetyBackup(of: target, before: name, progress: progress) }
            let at = try freeStamp(target: target, at: clock.now(), place: place)
            let new = SwapNames.name(.new, target: target, at: at)
            let like = try loadAndCheck(metadata, identity: identity, into: new, like: target, at: at, place: place,
                                        progress: progress)
            let outgoing = SwapNames.name(.before, target: target, at: at)
            let marker = SwapMarker(target: target, backup: name, at: at, originalComment: like.comment)
            do {
                result.terminatedSessions = try clearSessions(on: target, terminate: terminateConnections, place: place)
                result.swapSeconds = try swapIn(new, as: target, outgoing: outgoing, outgoingMarker: marker,
                                                targetComment: like.comment, place: place)
            } catch {
                // Not swapped (the transaction rolled back): `new` still has its name, and goes.
                dropSwapDatabase(new, place: place)
                throw error
            }
            result.previousDatabase = outgoing
            try? recordSwapInProgress(new, false)
            result.droppedDatabases += keepPrevious(target: target, swapped: PreviousDatabase(
                name: outgoing, target: target, at: at, replacedBy: name), place: place)
            if configuration.keepPreviousDatabases == 0 { result.previousDatabase = nil }
            result.durationSeconds = Date().timeIntervalSince(started)
            logger.info("restore by swap finished", metadata: ["filename": "\(name)", "target": "\(target)",
                                                              "swap_seconds": "\(result.swapSeconds ?? 0)"])
            return result
        }
    }

    /// The safety backup a restore takes first (a swap's only when asked: its previous database is its safety net).
    func takeSafetyBackup(of target: String, before name: String, progress: ProgressHandler?) throws -> BackupMetadata {
        do {
            let safety = try createLocked(database: target, description: "Safety backup before restoring \(name)",
                                          kind: .preRestore, progress: progress)
            markPending(safety)
            return safety
        } catch let BackupError.insufficientSpace(needed, available) {
            throw BackupError.insufficientSpaceForSafetyBackup(needed: needed, available: available)
        }
    }

    /// Creates `new` like `target`, marked as pgbackup's, loads the backup into it and checks it: every table's
    /// rows against the sidecar's, the trailer seen (LoadOperation), no error. Any failure drops `new` and throws.
    private func loadAndCheck(_ metadata: BackupMetadata, identity: AgeIdentity?, into new: String, like target: String,
                              at: Date, place: SwapPlace, progress: ProgressHandler?) throws -> DatabaseLike {
        let like = try tools.databaseLike(target, new: new, serverVersion: place.server.number, database: place.maintenance)
        let marker = SwapMarker(target: target, backup: metadata.filename, at: at, originalComment: like.comment)
        // Recorded first: a run killed between CREATE DATABASE and the marker comment leaves a database the next
        // run still knows as its own.
        try recordSwapInProgress(new, true)
        do {
            try tools.execute(like.create, database: place.maintenance)
            try tools.execute((like.after + ["COMMENT ON DATABASE \"\(new)\" IS \(PostgresTools.literal(marker.comment))"])
                .joined(separator: ";\n"), database: place.maintenance)
            var load = LoadOperation(storage: store, tools: tools, identity: identity, age: age)
            load.jobs = configuration.restoreJobs
            try load.run(metadata, into: new, serverVersion: place.server.number, progress: progress)
            try Interruption.shared.check("restore")
            if let expected = metadata.tables {
                let mismatches = DrillResult.mismatches(expected: expected, found: try tools.rowCounts(database: new))
                guard mismatches.isEmpty else {
                    throw BackupError.restoreFailed("the new database's row counts differ from the backup's sidecar ("
                        + mismatches.prefix(5).map { "\($0.table) expected \($0.expected), found \($0.found.map(String.init) ?? "no such table")" }.joined(separator: "; ")
                        + (mismatches.count > 5 ? "; and \(mismatches.count - 5) more" : "") + "); it was dropped")
                }
            } else {
                logger.warning("the sidecar records no row counts: the new database's tables were not compared",
                               metadata: ["filename": "\(metadata.filename)"])
            }
            try Interruption.shared.check("restore")
            return like
        } catch {
            dropSwapDatabase(new, place: place)
            throw error
        }
    }

    /// Ends the other sessions on the target (`terminate`), or refuses naming them; none of pgbackup's own.
    private func clearSessions(on target: String, terminate: Bool, place: SwapPlace) throws -> [DatabaseSession]? {
        let sessions = try tools.sessions(on: target, database: place.maintenance)
        guard terminate else {
            if !sessions.isEmpty { throw BackupError.databaseInUse(database: target, sessions: sessions) }
            return nil
        }
        let ended = try tools.terminateSessions(database: target, serverVersion: place.server.number)
        logger.info("ended the other sessions on the target", metadata: [
            "target": "\(target)", "sessions": "\(ended.map(\.summary).joined(separator: "; "))"])
        return ended
    }
}
