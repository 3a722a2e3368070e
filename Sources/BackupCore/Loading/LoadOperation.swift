import Foundation

/// Loads a checked backup into a FRESH, EMPTY database (a drill's scratch database, `restore --swap`'s new
/// one) through one psql in ordinary transactions: no outer BEGIN/COMMIT, so a dump of thousands of tables
/// never meets the server's lock ceiling (`max_locks_per_transaction`), and pg_dump's own large-object
/// BEGIN/COMMIT stay as they are. Nothing else can see the database until the caller decides (the drill drops
/// it, the swap renames it), so a half-loaded database is never visible under a real name: on any failure the
/// caller drops it.
///
/// `run` returns only once psql ran everything and the dump's trailer was seen (`BackupReader`'s checks), and
/// psql exited 0. On any failure psql is stopped and reaped, and the error thrown.
struct LoadOperation {
    let storage: any BackupStorage
    let tools: PostgresTools
    /// The key an encrypted backup is decrypted with (already matched to its recipients).
    var identity: AgeIdentity?
    var age = AgeTool(environment: [:])
    /// How many psql sessions load at once (`BACKUP_RESTORE_JOBS`); 1 is the one session below, more is
    /// `ParallelLoad`.
    var jobs = 1

    func run(_ metadata: BackupMetadata, into database: String, serverVersion: Int, progress: ProgressHandler?) throws {
        if jobs > 1 {
            return try ParallelLoad(load: self, jobs: jobs)
                .run(metadata, into: database, serverVersion: serverVersion, progress: progress)
        }
        let (lockTimeout, preamble) = PsqlSession.settings(tools, serverVersion: serverVersion)
        let session = try PsqlSession.start(tools.restoreCommand(database: database), preamble: preamble)
        defer { session.stop() }
        let psql = session.input
        do {
            let filter = RestoreFilterStage(lockTimeoutLine: Array(lockTimeout.utf8), keepingTransactions: true, next: psql)
            _ = try BackupReader(storage: storage, identity: identity, age: age)
                .read(metadata, progress: progress, into: filter, storedBytesChecked: metadata.sha256 != nil)
            psql.send(session.readiness.command)
            try psql.flush()
            if !session.readiness.wait() { psql.psqlGone = true }
        } catch where psql.psqlGone {
            // psql stopped first (its error is the cause, not the broken pipe).
        }
        let status = session.finish()
        if psql.psqlGone || status != 0 {
            let message = tools.redact(session.child.stderrText().trimmingCharacters(in: .whitespacesAndNewlines))
            throw BackupError.restoreFailed(message.isEmpty ? "psql \(ChildProcess.describe(status))" : message)
        }
        // A signal that came while psql was finishing anyway still stops the caller before it uses the database.
        try Interruption.shared.check("restore")
    }
}
