import Foundation

/// Restore drills: prove a backup restores, and that every table came back with the rows it had.
extension BackupManager {
    /// Restores backup `name` (default: the newest complete backup of POSTGRES_DB) into a new scratch database
    /// with the same pipeline and checks as a restore (no safety backup: nothing is replaced), compares each
    /// table's rows with the sidecar's counts, and drops the scratch database whatever happened. The result goes
    /// into the backup's sidecar (`last_drill`) and the state file; a failed drill throws `drillFailed` with it.
    public func drill(_ name: String? = nil, user: String? = nil, progress: ProgressHandler? = nil) throws -> DrillResult {
        if let name { _ = try BackupName.validate(name) }
        let lock = try store.lock("drill", now: clock.now())
        defer { withExtendedLifetime(lock) {} }
        do {
            let result = try Interruption.shared.during("drill") { try drillLocked(name, user: user, progress: progress) }
            guard result.record.passed else { throw BackupError.drillFailed(result) }
            recordSuccess(operation: "drill")
            logger.info("drill passed", metadata: ["filename": "\(result.record.backup)", "compared": "\(result.compared)"])
            return result
        } catch let BackupError.interrupted(_, signal) {
            // The restore inside may have been the one to notice (before its COMMIT): the drill was interrupted.
            let error = BackupError.interrupted(operation: "drill", signal: signal)
            recordFailure(operation: "drill", error: error)
            throw error
        } catch {
            recordFailure(operation: "drill", error: error)
            throw error
        }
    }

    /// The checks a drill request passes before it takes the lock (an async job is refused with them up front).
    public func checkDrillRequest(_ name: String?) throws {
        _ = try drillTarget(name)
    }

    /// The backup a drill restores: the one named, else the newest complete backup of POSTGRES_DB.
    func drillTarget(_ name: String?) throws -> BackupMetadata {
        if let name { return try store.metadata(try BackupName.validate(name)) }
        let database = configuration.postgres.database
        guard let newest = try store.listing().backups.first(where: { $0.isBackup(of: database) }) else {
            throw BackupError.invalidInput("there is no complete backup of '\(database)' (POSTGRES_DB) to drill")
        }
        return newest
    }

    private func drillLocked(_ name: String?, user: String?, progress: ProgressHandler?) throws -> DrillResult {
        let metadata = try drillTarget(name)
        // An encrypted backup without a matching key is refused before anything is created.
        let identity = try identity(for: metadata, required: true)
        let maintenance = configuration.postgres.database
        let server = try tools.serverVersion(database: maintenance)
        let privilege = try tools.createDatabasePrivilege(database: maintenance)
        guard privilege.allowed else { throw BackupError.drillNotPermitted(role: privilege.role) }
        let dropped = try dropLeftoverScratchDatabases(serverVersion: server.number)
        let at = clock.now()
        let scratch = ScratchDatabase.name(prefix: configuration.drillDatabasePrefix, at: at)
        guard scratch != maintenance else {
            throw BackupError.invalidConfiguration(variable: "BACKUP_DRILL_DATABASE", value: configuration.drillDatabasePrefix,
                                                   reason: "the scratch database would be POSTGRES_DB itself")
        }
        logger.info("drilling backup", metadata: ["filename": "\(metadata.filename)", "scratch": "\(scratch)",
                                                  "user": "\(user ?? "-")"])
        let started = Date()
        let (found, failure) = try restoreIntoScratch(metadata, identity: identity, scratch: scratch, server: server,
                                                      progress: progress)
        let mismatches = found.map { DrillResult.mismatches(expected: metadata.tables, found: $0) } ?? []
        let record = DrillRecord(backup: metadata.filename, at: at, passed: failure == nil && mismatches.isEmpty,
                                 durationSeconds: Date().timeIntervalSince(started), mismatches: mismatches, error: failure)
        recordDrill(record, of: metadata)
        return DrillResult(record: record, scratchDatabase: scratch, found: found, compared: metadata.tables != nil,
                           droppedLeftovers: dropped)
    }

    /// Creates the scratch database, restores into it and counts its rows, then drops it, always. A failure of the
    /// restore (or of creating the database) is the drill's finding, returned; an interruption is thrown.
    private func restoreIntoScratch(_ metadata: BackupMetadata, identity: AgeIdentity?, scratch: String,
                                    server: (text: String, number: Int), progress: ProgressHandler?) throws -> (found: [String: Int64]?, failure: String?) {
        let maintenance = configuration.postgres.database
        // Dropped afterwards only if this drill created it: a database that already had the name (CREATE fails) is
        // someone else's.
        var created = false
        defer { if created { dropScratchDatabase(scratch, serverVersion: server.number) } }
        do {
            try tools.createScratchDatabase(scratch, database: maintenance)
            created = true
            try tools.markScratchDatabase(scratch, marker: DrillMarker(scratch: scratch, backup: metadata.filename),
                                          database: maintenance)
            try checkBeforeRestoring(metadata, identity: identity)
            let header = DumpHeader.read(metadata.filename, from: store, codec: metadata.compression,
                                         decrypting: identity.map { ($0, age) })
            try checkDumpVersion(metadata, header: header, target: scratch, server: server)
            var load = LoadOperation(storage: store, tools: tools, identity: identity, age: age)
            load.jobs = configuration.restoreJobs
            try load.run(metadata, into: scratch, serverVersion: server.number, progress: progress)
            return (try tools.rowCounts(database: scratch), nil)
        } catch let error as BackupError where !error.isInterruption && Interruption.shared.signal == nil {
            logger.warning("drill restore failed", metadata: ["filename": "\(metadata.filename)", "error": "\(error)"])
            return (nil, error.description)
        }
    }

    private func dropScratchDatabase(_ scratch: String, serverVersion: Int) {
        do {
            try Interruption.shared.cleaningUp {
                try tools.dropScratchDatabase(scratch, database: configuration.postgres.database, serverVersion: serverVersion)
            }
        } catch {
            // The next drill drops it (its name and marker say it is a drill's); nothing else may use it meanwhile.
            logger.error("could not drop the drill's scratch database", metadata: ["scratch": "\(scratch)", "error": "\(error)"])
        }
    }

    /// Scratch databases of earlier drills that were killed before dropping theirs: under the lock no drill is
    /// running, so every one is dead. Never POSTGRES_DB, and only databases of the exact scratch shape that carry a
    /// drill's marker; one of that shape without it is someone else's (or a drill's killed in the instant between
    /// creating and marking it) and is only reported.
    private func dropLeftoverScratchDatabases(serverVersion: Int) throws -> [String] {
        let maintenance = configuration.postgres.database
        let prefix = configuration.drillDatabasePrefix
        let candidates = try tools.databasesWithComments(database: maintenance).filter {
            $0.name != maintenance && ScratchDatabase.isScratch($0.name, prefix: prefix)
        }
        let leftovers = candidates.filter { ScratchDatabase.isOurs($0.name, comment: $0.comment, prefix: prefix) }.map(\.name)
        for lookalike in candidates where !leftovers.contains(lookalike.name) {
            logger.notice("left alone: named like a drill's scratch database, but without a drill's marker",
                          metadata: ["database": "\(lookalike.name)"])
        }
        for leftover in leftovers.sorted() {
            logger.warning("dropping a scratch database left by an earlier drill", metadata: ["scratch": "\(leftover)"])
            try tools.dropScratchDatabase(leftover, database: maintenance, serverVersion: serverVersion)
        }
        return leftovers.sorted()
    }

    /// The record goes into the backup's sidecar (rewritten atomically, its other fields unchanged) and the state
    /// file. Failing to write either is logged: the drill's outcome is still returned to whoever asked.
    private func recordDrill(_ record: DrillRecord, of metadata: BackupMetadata) {
        var drilled = metadata
        drilled.lastDrill = record
        do { try store.writeSidecar(drilled) } catch {
            logger.error("could not record the drill in the sidecar", metadata: ["filename": "\(metadata.filename)", "error": "\(error)"])
        }
        do { try RunState.update(store) { $0.lastDrill = record } } catch {
            logger.error("could not record the drill for status", metadata: ["error": "\(error)"])
        }
    }
}
