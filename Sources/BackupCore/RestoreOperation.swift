import CSystem
import Foundation

/// What a restore did.
public struct RestoreResult: Sendable, Equatable {
    public var filename: String
    public var targetDatabase: String
    public var safetyBackup: BackupMetadata?
    public var durationSeconds: Double

    public var json: JSON {
        .object([
            ("success", .bool(true)),
            ("message", .string("Database '\(targetDatabase)' restored from \(filename)")),
            ("backup_filename", .string(filename)),
            ("target_database", .string(targetDatabase)),
            ("safety_backup", safetyBackup.map { $0.listingJSON } ?? .null),
            ("duration_seconds", .double((durationSeconds * 1000).rounded() / 1000)),
        ])
    }
}

/// Restores a verified backup as ONE transaction: psql gets `BEGIN;`, the decoded dump (with pg_dump's own
/// large-object BEGIN/COMMIT neutralised), and `COMMIT;` only after the whole file decoded, its checksum matched
/// and its trailer was seen. Any failure closes psql's input without COMMIT, so the server rolls back.
struct RestoreOperation {
    let store: BackupStore
    let tools: PostgresTools

    func run(_ metadata: BackupMetadata, into database: String, progress: ProgressHandler?) throws {
        let child = try ChildProcess(tools.restoreCommand(database: database), stdin: .pipe, stdout: .pipe)
        guard let sink = child.stdin, let output = child.takeStdout() else {
            throw BackupError.restoreFailed("no pipe to psql")
        }
        let readiness = PsqlReadiness(fd: output)
        _ = fcntl(sink, PGB_F_SETPIPE_SZ, 1 << 20)
        var finished = false
        defer {
            if !finished {
                // Closing psql's input without COMMIT ends its session; the server rolls the transaction back.
                child.signal(SIGTERM)
                child.closeStdin()
                child.wait()
            }
        }
        var filter = RestoreFilter()
        var pending = [UInt8]()
        pending.reserveCapacity(1 << 20)
        var psqlGone = false

        func flush() throws {
            guard !pending.isEmpty else { return }
            do {
                try pending.withUnsafeBytes { try FileSystem.writeAll(sink, $0, path: "psql input") }
            } catch {
                psqlGone = true
                throw error
            }
            pending.removeAll(keepingCapacity: true)
        }

        do {
            pending.append(contentsOf: Array("BEGIN;\n".utf8))
            _ = try BackupReader(store: store).read(metadata, progress: progress) { decoded in
                try filter.process(decoded) { pending.append(contentsOf: $0) }
                if pending.count >= 1 << 20 { try flush() }
            }
            try filter.finish { pending.append(contentsOf: $0) }
            pending.append(contentsOf: readiness.command)
            try flush()
            // Only here, with the whole file decoded and checked and psql done with all of it, may the transaction
            // commit. From the moment COMMIT is sent a signal no longer stops psql: the outcome must be known.
            if !readiness.wait() {
                psqlGone = true
                throw BackupError.restoreFailed("psql stopped before the end of the dump")
            }
            try Interruption.shared.enterCommit("restore")
            pending.append(contentsOf: Array("\nCOMMIT;\n".utf8))
            try flush()
        } catch {
            Interruption.shared.leaveCommit()
            if psqlGone {
                child.closeStdin()
                let status = child.wait()
                finished = true
                let message = tools.redact(child.stderrText().trimmingCharacters(in: .whitespacesAndNewlines))
                throw BackupError.restoreFailed(message.isEmpty ? "psql \(ChildProcess.describe(status))" : message)
            }
            throw error
        }
        child.closeStdin()
        let status = child.wait()
        Interruption.shared.leaveCommit()
        finished = true
        guard status == 0 else {
            let message = tools.redact(child.stderrText().trimmingCharacters(in: .whitespacesAndNewlines))
            throw BackupError.restoreFailed(message.isEmpty ? "psql \(ChildProcess.describe(status))" : message)
        }
    }
}
