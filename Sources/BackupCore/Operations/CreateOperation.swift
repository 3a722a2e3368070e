import CSystem
import Crypto
import Foundation

/// Makes one backup: pg_dump's stdout streams through the parallel gzip encoder and SHA-256 into a partial file;
/// only a dump that pg_dump finished (exit 0 and its trailer) is fsynced, renamed into place and committed by
/// writing its sidecar. Nothing is buffered whole and nothing uncompressed touches the disk.
struct CreateOperation {
    let store: BackupStore
    let tools: PostgresTools
    let compressionLevel: Int
    let clock: TimeSource

    /// Runs with the lock already held by the caller.
    func run(database: String, description: String, kind: BackupKind, progress: ProgressHandler?) throws -> BackupMetadata {
        let started = clock.now()
        let startInstant = Date()
        let dumpVersion = try tools.pgDumpVersion()
        let server = try tools.serverVersion(database: database)
        guard dumpVersion.number / 10_000 >= server.number / 10_000 else {
            throw BackupError.versionMismatch(pgDump: dumpVersion.text, server: server.text)
        }
        try checkFreeSpace(database: database)

        let name = BackupName.make(database: database, at: started, taken: store.isTaken)
        let partial = "\(store.partialDirectory)/\(name)"
        let fd = open(partial, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw FileSystem.fail(partial) }
        var fileOpen = true
        var committed = false
        defer {
            if fileOpen { close(fd) }
            if !committed { unlink(partial) }
        }

        let child = try ChildProcess(tools.dumpCommand(database: database), stdout: .pipe)
        var childDone = false
        defer {
            if !childDone {
                child.signal(SIGKILL)
                child.closeStdout()
                child.wait()
            }
        }

        var hasher = SHA256()
        var writeError: BackupError?
        var writeback = Writeback(fd: fd)
        // Compression is most of a backup's CPU; at nice +10 it still gets every idle cycle but yields to the
        // API, the database's own clients and anything else the operator runs meanwhile.
        let encoder = try ParallelGzipWriter(level: compressionLevel, niceIncrement: 10) { chunk in
            do {
                try FileSystem.writeAll(fd, chunk, path: partial)
            } catch let error as BackupError {
                writeError = error
                throw error
            }
            hasher.update(bufferPointer: chunk)
            writeback.wrote(chunk.count)
        }
        var trailer = DumpTrailer()
        var throttle = ProgressThrottle(phase: "dump", handler: progress)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        guard let source = child.stdout else { throw BackupError.dumpFailed("no pipe from pg_dump") }
        // A deeper pipe lets pg_dump (and its server backend) run ahead while this thread hands blocks out or
        // writes; best effort, the default 64 KiB only costs some overlap.
        _ = fcntl(source, PGB_F_SETPIPE_SZ, 1 << 20)
        do {
            while true {
                let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
                if count < 0 {
                    if errno == EINTR { continue }
                    throw FileSystem.fail("pg_dump output")
                }
                if count == 0 { break }
                try buffer.withUnsafeBytes { raw in
                    let slice = UnsafeRawBufferPointer(rebasing: raw[0..<count])
                    trailer.consume(slice)
                    try encoder.write(slice)
                }
                throttle.report(trailer.byteCount)
            }
            try encoder.finish()
        } catch {
            throw writeError ?? (error as? BackupError) ?? BackupError.dumpFailed("\(error)")
        }
        child.closeStdout()
        let status = child.wait()
        childDone = true
        throttle.report(trailer.byteCount, force: true)
        let stderr = tools.redact(child.stderrText().trimmingCharacters(in: .whitespacesAndNewlines))
        guard status == 0 else {
            var message = stderr.isEmpty ? "pg_dump \(ChildProcess.describe(status))" : stderr
            if stderr.contains("LOCK TABLE") && stderr.contains("timeout") {
                message += " (a table stayed locked longer than BACKUP_LOCK_WAIT_TIMEOUT=\(tools.lockWaitTimeoutSeconds)s)"
            }
            throw BackupError.dumpFailed(message)
        }
        if let problem = trailer.problem { throw BackupError.dumpFailed(problem) }

        guard fsync(fd) == 0 else { throw FileSystem.fail(partial) }
        close(fd)
        fileOpen = false
        let final = store.dumpPath(name)
        guard rename(partial, final) == 0 else { throw FileSystem.fail(final) }
        committed = true
        do {
            try FileSystem.fsyncPath(store.directory, directory: true)
            let metadata = BackupMetadata(
                filename: name, createdAt: started, database: database, sizeBytes: encoder.compressedBytes,
                description: description, compressed: true,
                sha256: hasher.finalize().map { String(format: "%02x", $0) }.joined(),
                uncompressedBytes: trailer.byteCount, durationSeconds: Date().timeIntervalSince(startInstant),
                kind: kind, pgDumpVersion: dumpVersion.text, serverVersion: server.text, formatVersion: 1)
            try FileSystem.writeAtomically(Array(metadata.json.serialized(pretty: true).utf8),
                                           to: store.sidecarPath(name), tempDirectory: store.partialDirectory)
            return metadata
        } catch {
            // Without its sidecar the dump is not a backup; do not leave it behind as an orphan we made.
            unlink(final)
            throw error
        }
    }

    /// Starts the kernel writing the backup out every few MiB while the dump is still running, so the fsync
    /// that commits it does not wait for ~100 MB of dirty pages at the end (measured: 0.2 s of a 10 s create).
    private struct Writeback {
        let fd: Int32
        private var written: Int64 = 0
        private var started: Int64 = 0
        private static let step: Int64 = 8 << 20

        init(fd: Int32) { self.fd = fd }

        mutating func wrote(_ count: Int) {
            written += Int64(count)
            guard written - started >= Writeback.step else { return }
            _ = sync_file_range(fd, started, written - started, UInt32(PGB_SYNC_FILE_RANGE_WRITE))
            started = written
        }
    }

    /// Refuses when free space is clearly too small: less than 1.2 × the size of the newest backup of the same
    /// database (another database's backup says nothing about how big this one will be).
    private func checkFreeSpace(database: String) throws {
        guard let newest = try? store.listing().backups.first(where: { $0.isBackup(of: database) }),
              let free = FileSystem.freeBytes(store.directory)
        else { return }
        let needed = Int64(Double(newest.sizeBytes) * 1.2)
        if free < needed { throw BackupError.insufficientSpace(needed: needed, available: free) }
    }
}
