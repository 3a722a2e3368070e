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

    func run(_ metadata: BackupMetadata, into database: String, serverVersion: Int, progress: ProgressHandler?) throws {
        let lockTimeout = "SET lock_timeout = '\(tools.lockWaitTimeoutSeconds)s';"
        var preamble = "\(lockTimeout)\n"
        if serverVersion >= 140_000 { preamble += "SET client_connection_check_interval = '2s';\n" }
        let child = try BackupError.mapping { try ChildProcess(tools.restoreCommand(database: database), stdin: .pipe, stdout: .pipe) }
        guard let stdin = child.stdin, let output = child.takeStdout() else {
            child.signal(SIGTERM)
            child.closeStdin()
            child.wait()
            throw BackupError.restoreFailed("no pipe to psql")
        }
        let readiness = PsqlReadiness(fd: output)
        ChildProcess.enlargePipe(stdin)
        var finished = false
        defer {
            if !finished {
                child.signal(SIGTERM)
                child.closeStdin()
                child.wait()
            }
        }
        let psql = PsqlInput(fd: stdin)
        psql.send(Array(preamble.utf8))
        do {
            let filter = RestoreFilterStage(lockTimeoutLine: Array(lockTimeout.utf8), keepingTransactions: true, next: psql)
            _ = try BackupReader(storage: storage, identity: identity, age: age)
                .read(metadata, progress: progress, into: filter, storedBytesChecked: metadata.sha256 != nil)
            psql.send(readiness.command)
            try psql.flush()
            if !readiness.wait() { psql.psqlGone = true }
        } catch where psql.psqlGone {
            // psql stopped first (its error is the cause, not the broken pipe).
        }
        child.closeStdin()
        let status = child.wait()
        finished = true
        if psql.psqlGone || status != 0 {
            let message = tools.redact(child.stderrText().trimmingCharacters(in: .whitespacesAndNewlines))
            throw BackupError.restoreFailed(message.isEmpty ? "psql \(ChildProcess.describe(status))" : message)
        }
        // A signal that came while psql was finishing anyway still stops the caller before it uses the database.
        try Interruption.shared.check("restore")
    }
}
