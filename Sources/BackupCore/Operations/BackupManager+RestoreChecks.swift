import Foundation

/// What a restore settles before it touches the target: which database it goes into, and whether the target
/// server can read what the dump's pg_dump wrote.
extension BackupManager {
    /// The database a backup was taken of: its sidecar's `database`, else the `<db>` part of its name (the old
    /// tool's sidecars may lack the field).
    public static func sourceDatabase(of metadata: BackupMetadata) -> String? {
        metadata.database.isEmpty ? BackupName.databasePart(metadata.filename) : metadata.database
    }

    /// The checks a restore request passes before it takes the lock: a valid backup name, a valid target database
    /// name, and a target that fits the backup (see `restoreTarget`). A client's mistake is refused here, before the
    /// lock and without being recorded as a failure of the system.
    ///
    /// - Parameter backupMustExist: the restore runs later, as a job, so a missing backup is refused now too (it is
    ///   looked up first, as the job would); a restore run at once looks it up again under the lock instead.
    public func checkRestoreRequest(_ name: String, targetDatabase: String?, backupMustExist: Bool) throws {
        let name = try BackupName.validate(name)
        // A backup known only on the remote is fetched by the restore itself.
        let remoteOnly = RemoteState.load(store).remoteBackups.first { $0.filename == name && isRemoteOnly(name) }
        let known = backupMustExist && remoteOnly == nil ? try store.metadata(name) : remoteOnly
        let target = targetDatabase ?? configuration.postgres.database
        if let problem = DatabaseName.problem(target) {
            throw BackupError.invalidInput("invalid target database: \(problem)")
        }
        if Self.templateDatabases.contains(target) {
            throw BackupError.invalidInput("'\(target)' is a template database: every CREATE DATABASE copies it, so a "
                + "backup restored into it would reach every database made afterwards; restore into another database")
        }
        if let metadata = known ?? (try? store.metadata(name)) {
            _ = try restoreTarget(for: metadata, explicit: targetDatabase)
            _ = try identity(for: metadata, required: true)
        }
    }

    /// PostgreSQL's own templates, never a restore's target.
    static let templateDatabases: Set<String> = ["template0", "template1"]

    /// The database a restore of `metadata` goes into: `explicit` when given, else POSTGRES_DB — but only when the
    /// backup is of POSTGRES_DB. Restoring one database's backup over another must be asked for by name, or undoing
    /// a staging restore with its safety backup could overwrite production.
    public func restoreTarget(for metadata: BackupMetadata, explicit: String?) throws -> String {
        if let explicit { return explicit }
        let target = configuration.postgres.database
        if Self.isBackup(metadata, ofAnotherDatabaseThan: target), let source = Self.sourceDatabase(of: metadata) {
            throw BackupError.targetNotNamed(backup: metadata.filename, backupDatabase: source, target: target)
        }
        return target
    }

    /// Whether the backup was taken of a database other than `target` (by the name's `<db>` part, file-safe, when
    /// the sidecar does not say).
    public static func isBackup(_ metadata: BackupMetadata, ofAnotherDatabaseThan target: String) -> Bool {
        guard let source = sourceDatabase(of: metadata) else { return false }
        return metadata.database.isEmpty ? source != BackupName.fileSafe(database: target) : source != target
    }

    /// Refuses a dump whose pg_dump is of a newer major version than the target server: its SQL can use settings
    /// and syntax the older server does not know, and would fail half-way (after the safety backup). The dump's
    /// own header decides; the sidecar's `pg_dump_version` only when the header has no version line.
    func checkDumpVersion(_ metadata: BackupMetadata, header: DumpHeader, target: String,
                          server: (text: String, number: Int)) throws {
        guard let dumpedBy = (header.dumpedBy ?? metadata.pgDumpVersion).flatMap(PostgresTools.parseToolVersion),
              dumpedBy.number / 10_000 > server.number / 10_000
        else { return }
        throw BackupError.dumpTooNew(backup: metadata.filename, pgDump: dumpedBy.text,
                                     dumpedFrom: header.dumpedFrom.flatMap(PostgresTools.parseToolVersion)?.text,
                                     target: target, server: server.text)
    }
}
