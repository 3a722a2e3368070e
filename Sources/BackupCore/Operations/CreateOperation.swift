import Foundation

/// Makes one backup. pg_dump's plain SQL streams through a pipeline of stages into a new dump in the store:
///
///     pg_dump stdout → dump trailer → row counter → lock counter → progress → codec encoder → [age] → SHA-256 → byte count → new dump (.partial/)
///
/// With recipients configured, age encrypts the compressed stream before anything is hashed or written, so the
/// sha256 is of the stored ciphertext and no plaintext byte reaches `.partial/`.
/// Only a dump that pg_dump finished (exit 0 and its trailer) is committed: made durable, put in place and given
/// its sidecar. Nothing is buffered whole and nothing uncompressed touches the disk.
struct CreateOperation {
    let store: BackupStore
    let tools: PostgresTools
    let codec: Codec
    let compressionLevel: Int
    let clock: TimeSource
    /// Who new backups are encrypted to; nil makes plain ones.
    var recipients: AgeRecipients?
    var age = AgeTool(environment: [:])

    /// Runs with the lock already held by the caller.
    func run(database: String, description: String, kind: BackupKind, progress: ProgressHandler?) throws -> BackupMetadata {
        let started = clock.now()
        let startInstant = Date()
        let versions = try checkVersions(database: database)
        try checkFreeSpace(database: database)
        let name = BackupName.make(database: database, at: started, codec: codec, encrypted: recipients != nil,
                                   taken: store.isTaken)
        let dump = try store.newDump(name)
        defer { dump.discard() }
        let pipeline = try BackupError.mapping {
            try Pipeline(codec: codec, level: compressionLevel, encryption: recipients.map { ($0, age) },
                         progress: progress, into: dump)
        }
        // Runs before the discard above: age's output thread must be done with the partial file first.
        defer { pipeline.encryption?.cancel() }
        try runDump(of: database, into: pipeline)
        return try dump.commit {
            var metadata = BackupMetadata(
                filename: dump.name, createdAt: started, database: database, sizeBytes: pipeline.size.count,
                description: description, compressed: true, sha256: pipeline.sha256.hexDigest,
                uncompressedBytes: pipeline.trailer.byteCount, durationSeconds: Date().timeIntervalSince(startInstant),
                kind: kind, pgDumpVersion: versions.pgDump, serverVersion: versions.server, formatVersion: 1,
                compression: codec, tables: pipeline.rows.counts)
            metadata.encrypted = recipients != nil
            metadata.lockableObjects = pipeline.locks.count
            metadata.recipients = recipients?.keys ?? []
            return metadata
        }
    }

    /// The stages of one create, kept by name for what the sidecar records.
    struct Pipeline {
        let trailer: DumpTrailerStage
        let rows: TableRowCounter
        let locks: LockableObjectCounter
        let progress: ProgressStage
        let sha256: SHA256Stage
        let size: ByteCountStage
        let encryption: AgeEncryptStage?

        /// Where pg_dump's output goes in.
        var head: ByteStage { trailer }

        init(codec: Codec, level: Int, encryption: (AgeRecipients, AgeTool)? = nil, progress handler: ProgressHandler?,
             into dump: ByteStage) throws {
            size = ByteCountStage(next: dump)
            sha256 = SHA256Stage(next: size)
            let sha256 = sha256
            let encrypting = try encryption.map { try AgeEncryptStage(recipients: $0.0, tool: $0.1, next: sha256) }
            self.encryption = encrypting
            let stored: ByteStage = encrypting ?? sha256
            // Compression is most of a backup's CPU; at nice +10 it still gets every idle cycle but yields to the
            // API, the database's own clients and anything else the operator runs meanwhile.
            let encoder = try codec.encoder(level: level, niceIncrement: 10, next: stored)
            progress = ProgressStage(phase: "dump", handler: handler, next: encoder)
            locks = LockableObjectCounter(next: progress)
            rows = TableRowCounter(next: locks)
            trailer = DumpTrailerStage(next: rows)
        }
    }

    /// pg_dump must be of the server's major version or newer, or its dump could be incomplete. Each check is a
    /// short-lived client (≈ 50 ms through Debian's wrapper), so the two run side by side.
    private func checkVersions(database: String) throws -> (pgDump: String, server: String) {
        let tools = tools
        let serverVersion = BackgroundResult { try tools.serverVersion(database: database) }
        let dumpVersion = try tools.pgDumpVersion()
        let server = try serverVersion.value()
        guard dumpVersion.number / 10_000 >= server.number / 10_000 else {
            throw BackupError.versionMismatch(pgDump: dumpVersion.text, server: server.text)
        }
        return (dumpVersion.text, server.text)
    }

    /// Refuses when free space is clearly too small: less than 1.2 × the size of the newest backup of the same
    /// database (another database's backup says nothing about how big this one will be).
    private func checkFreeSpace(database: String) throws {
        guard let newest = try? store.listing().backups.first(where: { $0.isBackup(of: database) }),
              let free = store.freeBytes
        else { return }
        let needed = Int64(Double(newest.sizeBytes) * 1.2)
        if free < needed { throw BackupError.insufficientSpace(needed: needed, available: free) }
    }

    /// Pumps pg_dump's output through the pipeline; succeeds only when pg_dump exited 0 and its dump is complete.
    private func runDump(of database: String, into pipeline: Pipeline) throws {
        let child = try BackupError.mapping { try ChildProcess(tools.dumpCommand(database: database), stdout: .pipe) }
        var childDone = false
        defer {
            if !childDone {
                child.signal(SIGKILL)
                child.closeStdout()
                child.wait()
            }
        }
        guard let stdout = child.stdout else { throw BackupError.dumpFailed("no pipe from pg_dump") }
        ChildProcess.enlargePipe(stdout)
        do {
            try DescriptorSource(fd: stdout, name: "pg_dump output", closesDescriptor: false).pump(into: pipeline.head)
        } catch let error as AgeError {
            throw BackupError.encryptionFailed(error.description)
        } catch {
            throw (error as? BackupError) ?? BackupError.dumpFailed("\(error)")
        }
        child.closeStdout()
        let status = child.wait()
        childDone = true
        pipeline.progress.reportNow()
        guard status == 0 else { throw dumpFailure(status: status, stderr: child.stderrText()) }
        if let problem = pipeline.trailer.problem { throw BackupError.dumpFailed(problem) }
    }

    /// pg_dump's own message; a lock wait that timed out also names the setting that bounds it.
    private func dumpFailure(status: Int32, stderr: String) -> BackupError {
        let stderr = tools.redact(stderr.trimmingCharacters(in: .whitespacesAndNewlines))
        var message = stderr.isEmpty ? "pg_dump \(ChildProcess.describe(status))" : stderr
        if stderr.contains("LOCK TABLE") && stderr.contains("timeout") {
            message += " (a table stayed locked longer than BACKUP_LOCK_WAIT_TIMEOUT=\(tools.lockWaitTimeoutSeconds)s)"
        }
        return BackupError.dumpFailed(message)
    }
}
