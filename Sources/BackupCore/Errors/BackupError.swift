import Foundation

/// Every way a pgbackup operation can fail. The front ends map a case to their own numbers, each in one table:
/// exit codes in `CommandLineSupport/BackupError+ExitCode.swift`, HTTP statuses in
/// `BackupAPI/BackupError+HTTPStatus.swift`.
public enum BackupError: Error, Equatable, Sendable {
    /// A setting has a value pgbackup cannot use.
    case invalidConfiguration(variable: String, value: String, reason: String)
    /// A name or other input from outside failed validation.
    case invalidInput(String)
    /// No complete backup has that name.
    case notFound(String)
    /// No async job has that id (it never existed, or finished more than 7 days ago).
    case jobNotFound(String)
    /// Another mutating operation holds the lock.
    case operationInProgress(LockHolder?)
    /// The stored backup does not match what was recorded, or is not a complete dump.
    case verificationFailed(name: String, reason: String)
    /// pg_dump failed or produced an incomplete dump.
    case dumpFailed(String)
    /// psql failed; the target database was left unchanged.
    case restoreFailed(String)
    /// The database server could not be reached.
    case databaseUnreachable(String)
    /// pg_dump is older than the server, so its dump could be incomplete.
    case versionMismatch(pgDump: String, server: String)
    /// Too little free space for the next backup.
    case insufficientSpace(needed: Int64, available: Int64)
    /// A filesystem operation failed.
    case io(path: String, message: String)
    /// A helper program could not be started.
    case launchFailed(program: String, message: String)
    /// The backup is of another database than the default target, and no target was named.
    case targetNotNamed(backup: String, backupDatabase: String, target: String)
    /// The dump was made by a pg_dump of a newer major version than the target server.
    case dumpTooNew(backup: String, pgDump: String, dumpedFrom: String?, target: String, server: String)
    /// A lock the restore needed was held by other sessions past BACKUP_LOCK_WAIT_TIMEOUT; rolled back.
    case restoreBlocked(timeoutSeconds: Int, blockers: [DatabaseSession], psql: String)
    /// Too little free space for the safety backup a restore takes first.
    case insufficientSpaceForSafetyBackup(needed: Int64, available: Int64)
    /// SIGTERM, SIGINT or SIGHUP stopped a create or restore; what it left is cleaned up as after any failure.
    case interrupted(operation: String, signal: Int32)
    /// A restore drill's restore failed or its row counts differ from the sidecar's; its scratch database was dropped.
    case drillFailed(DrillResult)
    /// The role may not create databases (CREATEDB), which a drill needs for its scratch database.
    case drillNotPermitted(role: String)
    /// age failed while encrypting a new backup; no backup was made.
    case encryptionFailed(String)
    /// The backup is encrypted and no identity (private key) was given to decrypt it.
    case identityRequired(backup: String)
    /// The identity given is not one of those the backup was encrypted to.
    case wrongIdentity(backup: String, identityFile: String)
    /// rclone could not copy to, list, read or delete from the off-site remote (its message redacted).
    case remoteFailed(String)
    /// A single-transaction restore would not fit in the server's lock table; refused before anything is touched.
    case lockCapacityExceeded(LockShortage)
    /// Other sessions were connected to the database a swap or rollback renames; nothing was swapped.
    case databaseInUse(database: String, sessions: [DatabaseSession])

    /// Stable machine-readable code used in API error bodies and JSON output.
    public var code: String {
        switch self {
        case .invalidConfiguration: "invalid_configuration"
        case .invalidInput: "invalid_input"
        case .notFound, .jobNotFound: "not_found"
        case .operationInProgress: "operation_in_progress"
        case .verificationFailed: "verification_failed"
        case .dumpFailed: "dump_failed"
        case .restoreFailed: "restore_failed"
        case .databaseUnreachable: "database_unreachable"
        case .versionMismatch: "version_mismatch"
        case .insufficientSpace: "insufficient_space"
        case .io: "io_error"
        case .launchFailed: "launch_failed"
        case .targetNotNamed: "target_database_required"
        case .dumpTooNew: "incompatible_backup"
        case .restoreBlocked: "database_in_use"
        case .insufficientSpaceForSafetyBackup: "insufficient_space"
        case .interrupted: "interrupted"
        case .drillFailed: "drill_failed"
        case .drillNotPermitted: "insufficient_privilege"
        case .encryptionFailed: "encryption_failed"
        case .identityRequired: "identity_required"
        case .wrongIdentity: "wrong_identity"
        case .remoteFailed: "remote_failed"
        case .lockCapacityExceeded: "lock_capacity_exceeded"
        case .databaseInUse: "database_in_use"
        }
    }
}

extension BackupError: CustomStringConvertible {
    public var description: String {
        switch self {
        case let .invalidConfiguration(variable, value, reason):
            "invalid value '\(value)' for \(variable): \(reason)"
        case let .invalidInput(message):
            message
        case let .notFound(name):
            "no backup named '\(name)'"
        case let .jobNotFound(id):
            "no job with id '\(id)' (finished jobs are kept for 7 days)"
        case let .operationInProgress(holder?):
            "another operation is running: \(holder.operation) (pid \(holder.pid), since \(Timestamp.iso8601(holder.since)))"
        case .operationInProgress(nil):
            "another operation is running"
        case let .verificationFailed(name, reason):
            "backup '\(name)' failed verification: \(reason)"
        case let .dumpFailed(message):
            "pg_dump failed: \(message)"
        case let .restoreFailed(message):
            "restore failed, the database was left unchanged: \(message)"
        case let .databaseUnreachable(message):
            "cannot connect to the database: \(message)"
        case let .versionMismatch(pgDump, server):
            "pg_dump \(pgDump) is older than the server (\(server)); install a pg_dump of the server's major version or newer"
        case let .insufficientSpace(needed, available):
            "not enough free space in the backup directory: about \(needed) bytes needed, \(available) available"
        case let .io(path, message):
            "\(path): \(message)"
        case let .launchFailed(program, message):
            "cannot run \(program): \(message)"
        case let .targetNotNamed(backup, backupDatabase, target):
            "backup '\(backup)' is of database '\(backupDatabase)', not of '\(target)' (POSTGRES_DB); refusing to "
                + "restore it over '\(target)' unless the target is named explicitly"
        case let .dumpTooNew(backup, pgDump, dumpedFrom, target, server):
            "backup '\(backup)' was made by pg_dump \(pgDump)"
                + (dumpedFrom.map { " from a PostgreSQL \($0) server" } ?? "")
                + ", newer than the target '\(target)' on PostgreSQL \(server), which cannot read what a newer pg_dump writes"
        case let .restoreBlocked(seconds, blockers, psql):
            "restore failed, the database was left unchanged: a lock it needed was not granted within "
                + "BACKUP_LOCK_WAIT_TIMEOUT=\(seconds)s; "
                + (blockers.isEmpty ? "the blocking sessions had ended when pgbackup looked"
                    : "blocked by " + blockers.map(\.summary).joined(separator: "; "))
                + " (psql: \(psql))"
        case let .insufficientSpaceForSafetyBackup(needed, available):
            "not enough free space in the backup directory for the safety backup a restore takes first: about "
                + "\(Self.megabytes(needed)) needed, \(Self.megabytes(available)) available"
        case let .interrupted("restore", signal):
            "restore interrupted by \(Interruption.name(signal)) before COMMIT: the database was left unchanged"
        case let .interrupted("rollback", signal):
            "rollback interrupted by \(Interruption.name(signal)) before its swap: the database was left unchanged"
        case let .interrupted("drill", signal):
            "drill interrupted by \(Interruption.name(signal)): its scratch database was dropped"
        case let .interrupted(operation, signal):
            "\(operation) interrupted by \(Interruption.name(signal)): no backup was made and its partial file was removed"
        case let .drillFailed(result):
            result.message
        case let .drillNotPermitted(role):
            "role '\(role)' (POSTGRES_USER) may not create databases, and a drill restores into a scratch database it "
                + "creates and drops"
        case let .encryptionFailed(message):
            "encrypting the backup failed, no backup was made: \(message)"
        case let .identityRequired(backup):
            "backup '\(backup)' is encrypted with age and no identity (private key) was given to decrypt it"
        case let .wrongIdentity(backup, file):
            "the identity in \(file) is not one of the keys backup '\(backup)' was encrypted to"
        case let .remoteFailed(message):
            "off-site copy failed: \(message)"
        case let .lockCapacityExceeded(shortage):
            shortage.message
        case let .databaseInUse(database, sessions):
            "'\(database)' was not swapped, it is unchanged: other sessions are connected to it: "
                + (sessions.isEmpty ? "(they had gone when pgbackup looked)" : sessions.map(\.summary).joined(separator: "; "))
        }
    }

    /// A whole-sentence hint for a person, where one helps.
    public var hint: String? {
        switch self {
        case .operationInProgress:
            "Wait for it to finish, then try again."
        case .databaseUnreachable:
            "Check POSTGRES_HOST, POSTGRES_PORT, POSTGRES_USER and the password, and that the server is running."
        case .insufficientSpace:
            "Free space in BACKUP_DIR, lower BACKUP_RETENTION_DAYS or BACKUP_MAX_COUNT and run cleanup."
        case .insufficientSpaceForSafetyBackup:
            "Free space in BACKUP_DIR, or skip the safety backup with --no-safety-backup (API \"safety_backup\": false) "
                + "if the database has another copy."
        case let .targetNotNamed(_, backupDatabase, target):
            "To restore it into '\(target)' anyway, pass --target-db \(target) (API \"target_database\": \"\(target)\"); "
                + "to restore it into its own database, pass --target-db \(backupDatabase)."
        case let .dumpTooNew(_, pgDump, _, _, _):
            "Restore it into a server of PostgreSQL \(pgDump.split(separator: ".").first ?? "") or newer."
        case .restoreBlocked, .databaseInUse:
            "End those sessions (or stop the application), or restore with --terminate-connections "
                + "(API \"terminate_connections\": true) to end every other session on the target first."
        case .verificationFailed:
            "Do not restore this backup; restore an older one that verifies."
        case let .invalidConfiguration(variable, _, _) where variable.hasPrefix("--"):
            "Fix the \(variable) value on the command line."
        case .invalidConfiguration:
            "Fix the setting in the environment or the env file."
        case let .drillNotPermitted(role):
            "Grant it with ALTER ROLE \"\(role)\" CREATEDB; (as a superuser), or set POSTGRES_USER to a role that has CREATEDB."
        case .drillFailed:
            "Do not rely on this backup until a drill of it passes; drill an older one with 'pgbackup drill NAME'."
        case .identityRequired:
            "Set BACKUP_AGE_IDENTITY_FILE to the private key's file (mode 0600), or pass --identity FILE; the database "
                + "was not touched."
        case .wrongIdentity:
            "Use the identity of one of the recipients in the backup's sidecar (age-keygen -y prints an identity's "
                + "public key); the database was not touched."
        case .remoteFailed:
            "Check BACKUP_REMOTE, the credentials in BACKUP_RCLONE_CONFIG and that the remote is reachable; pending uploads are retried by the next create or 'pgbackup push'."
        case let .lockCapacityExceeded(shortage):
            shortage.hint
        default:
            nil
        }
    }
}

extension BackupError {
    var isInterruption: Bool {
        if case .interrupted = self { return true }
        return false
    }
}

extension BackupError {
    /// "12.3 MB", for messages a person reads.
    static func megabytes(_ bytes: Int64) -> String { String(format: "%.1f MB", Double(bytes) / 1_048_576) }
}

extension BackupError {
    /// The error body shared by the API and `--json` output.
    public var json: JSON {
        var detail = description
        if let hint { detail += ". " + hint }
        var fields: [(String, JSON)] = [("success", .bool(false)), ("error", .string(code)), ("detail", .string(detail))]
        if case let .operationInProgress(holder?) = self { fields.append(("running", holder.json)) }
        if case let .restoreBlocked(_, blockers, _) = self { fields.append(("blocking_sessions", .array(blockers.map(\.json)))) }
        if case let .databaseInUse(_, sessions) = self { fields.append(("blocking_sessions", .array(sessions.map(\.json)))) }
        if case let .drillFailed(result) = self { fields.append(("drill", result.json)) }
        if case let .lockCapacityExceeded(shortage) = self { fields.append(("lock_capacity", shortage.json)) }
        return .object(fields)
    }
}
