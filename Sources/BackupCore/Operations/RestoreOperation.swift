import Foundation

/// Restores a checked backup as ONE transaction: psql gets `BEGIN;`, the decoded dump (with pg_dump's own
/// large-object BEGIN/COMMIT neutralised), and `COMMIT;` only after the whole file decoded, the codec's checksums
/// matched and its trailer was seen (the sha256, when recorded, was checked before psql started). Any failure closes psql's input without COMMIT, so the server rolls back.
///
/// The session waits at most BACKUP_LOCK_WAIT_TIMEOUT for each lock (`lock_timeout`, also in place of the dump's
/// own `SET lock_timeout = 0;`), so an application's open transaction cannot hold the restore (and pgbackup's
/// lock) forever; the sessions it waited for are named. `client_connection_check_interval` makes the server
/// notice a psql that is gone even while it waits on a lock.
struct RestoreOperation {
    let storage: any BackupStorage
    let tools: PostgresTools
    /// The key an encrypted backup is decrypted with (already matched to its recipients).
    var identity: AgeIdentity?
    var age = AgeTool(environment: [:])

    func run(_ metadata: BackupMetadata, into database: String, serverVersion: Int, progress: ProgressHandler?) throws {
        let (lockTimeout, settings) = PsqlSession.settings(tools, serverVersion: serverVersion)
        let preamble = "BEGIN;\n" + settings
        let watch = BlockerWatch(tools: tools, database: database)
        defer { _ = watch.stop() }
        // Closing psql's input without COMMIT (`stop()`) ends its session; the server rolls the transaction back.
        let session = try PsqlSession.start(tools.restoreCommand(database: database), preamble: preamble)
        defer { session.stop() }
        let psql = session.input
        do {
            try send(metadata, lockTimeoutLine: Array(lockTimeout.utf8), progress: progress, to: psql,
                     readiness: session.readiness)
        } catch {
            Interruption.shared.leaveCommit()
            if psql.psqlGone { throw failure(session.child, status: session.finish(), watch: watch) }
            throw error
        }
        let status = session.finish()
        Interruption.shared.leaveCommit()
        guard status == 0 else { throw failure(session.child, status: status, watch: watch) }
    }

    /// The dump through its pipeline into psql, checked on the way:
    ///
    ///     stored dump → (`BackupReader`'s checks and decoder) → restore filter → psql's stdin
    ///
    /// then, once psql has run all of it, COMMIT.
    private func send(_ metadata: BackupMetadata, lockTimeoutLine: [UInt8], progress: ProgressHandler?,
                      to psql: PsqlInput, readiness: PsqlReadiness) throws {
        let filter = RestoreFilterStage(lockTimeoutLine: lockTimeoutLine, next: psql)
        _ = try BackupReader(storage: storage, identity: identity, age: age)
            .read(metadata, progress: progress, into: filter, storedBytesChecked: metadata.sha256 != nil)
        psql.send(readiness.command)
        try psql.flush()
        // Only here, with the whole file decoded and checked and psql done with all of it, may the transaction
        // commit. From the moment COMMIT is sent a signal no longer stops psql: the outcome must be known.
        if !readiness.wait() {
            psql.psqlGone = true
            throw BackupError.restoreFailed("psql stopped before the end of the dump")
        }
        try Interruption.shared.enterCommit("restore")
        psql.send(Array("\nCOMMIT;\n".utf8))
        try psql.flush()
    }

    /// psql's own message; a lock timeout (SQLSTATE 55P03) also names the sessions the restore waited for.
    private func failure(_ child: ChildProcess, status: Int32, watch: BlockerWatch) -> BackupError {
        let message = tools.redact(child.stderrText().trimmingCharacters(in: .whitespacesAndNewlines))
        if message.contains("lock timeout") || message.contains("55P03") {
            return .restoreBlocked(timeoutSeconds: tools.lockWaitTimeoutSeconds, blockers: watch.stop(), psql: message)
        }
        return .restoreFailed(message.isEmpty ? "psql \(ChildProcess.describe(status))" : message)
    }
}
