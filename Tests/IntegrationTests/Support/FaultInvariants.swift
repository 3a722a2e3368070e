import Foundation
import TestSupport
import Testing

/// The invariants of issue 6 that can be read from the outside, checked after every fault scenario:
///
/// 1. every backup listed as complete passes verify (and our own sha256sum agrees with its sidecar), is a regular
///    file of mode 0600 with a 0600 sidecar, in a 0700 directory;
/// 2. nothing partial is listed or counted: every listed name is a regular file with a sidecar in BACKUP_DIR,
///    dumps without a sidecar (orphans) and files in `.partial` are never listed, and `status` counts exactly the
///    listed backups; no operation is left holding the lock;
/// 3. pre-existing backups are untouched (same sha256), unless retention was expected to remove them;
/// 6. the newest backup that existed before is still there (retention never deletes the newest).
///
/// Invariants 4 (failures are loud) and 5 (a database is unchanged or equal to the backup) depend on what the
/// scenario did, so the scenarios assert them themselves.
///
/// A backup that passed `pgbackup verify` once and whose sha256 is still the same is not verified again (reading
/// a 12 MB backup back a dozen times per test costs more than the scenarios themselves).
final class FaultInvariants: @unchecked Sendable {
    let ctx: CLITestContext
    /// The database the CLI is configured for (list/verify/status do not connect to it).
    let database: String
    /// Backups that passed verify, with the sha256 they had then.
    private var verified: [String: String] = [:]

    init(ctx: CLITestContext, database: String) {
        self.ctx = ctx
        self.database = database
    }

    /// SHA-256 of every complete backup's dump file, by name: what `check(unchanged:)` compares with later.
    func fingerprints() throws -> [String: String] {
        var result: [String: String] = [:]
        for name in try ctx.listedNames(database) {
            result[name] = try BackupFiles.sha256(ctx.backupURL(name))
        }
        return result
    }

    /// Checks invariants 1, 2, 3 and 6; returns the sha256 of every complete backup listed, by name (what the next
    /// check's `unchanged` usually is).
    @discardableResult
    /// `damaged` names backups a scenario damaged on purpose: they must FAIL verify (exit 4) instead.
    func check(
        unchanged before: [String: String] = [:], mayBeDeleted: Set<String> = [], damaged: Set<String> = [],
        _ scenario: @autoclosure () -> String = "", sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> [String: String] {
        let label = scenario().isEmpty ? "" : "[\(scenario())] "
        let entries = try ctx.list(database, sourceLocation: sourceLocation)
        let complete = entries.filter { $0["error"] == nil && CLITestContext.isLocal($0) }
        let names = complete.compactMap { $0["filename"] as? String }
        let partials = Set(ctx.partialFiles())
        var fingerprints: [String: String] = [:]

        // 1: directory modes.
        #expect(try FileTools.permissions(ctx.backupDir) == 0o700, "\(label)BACKUP_DIR must be 0700",
                sourceLocation: sourceLocation)
        if FileManager.default.fileExists(atPath: ctx.partialDir.path) {
            #expect(try FileTools.permissions(ctx.partialDir) == 0o700, "\(label).partial must be 0700",
                    sourceLocation: sourceLocation)
        }

        for entry in complete {
            guard let name = entry["filename"] as? String else {
                Issue.record("\(label)a listed backup has no filename: \(entry)", sourceLocation: sourceLocation)
                continue
            }
            let dump = ctx.backupURL(name)
            let sidecar = ctx.sidecarURL(name)
            // 2: a listed backup is a committed one: a regular file with its sidecar, never an in-flight file.
            #expect(BackupName.isValid(name), "\(label)listed name \(name)", sourceLocation: sourceLocation)
            #expect(!partials.contains(name), "\(label)\(name) is listed while a partial file has its name",
                    sourceLocation: sourceLocation)
            #expect(Self.isRegularFile(dump), "\(label)listed \(name) is not a regular file",
                    sourceLocation: sourceLocation)
            #expect(Self.isRegularFile(sidecar), "\(label)listed \(name) has no regular sidecar",
                    sourceLocation: sourceLocation)
            // 1: modes, our own checksum, and the product's verify.
            #expect(try FileTools.permissions(dump) == 0o600, "\(label)\(name) must be 0600", sourceLocation: sourceLocation)
            #expect(try FileTools.permissions(sidecar) == 0o600, "\(label)\(name).json must be 0600",
                    sourceLocation: sourceLocation)
            if damaged.contains(name) {
                let verify = try ctx.pgbackup(["verify", name], database: database)
                #expect(verify.status == 4, "\(label)damaged \(name) must fail verify: \(verify)", sourceLocation: sourceLocation)
                continue
            }
            let sha = try BackupFiles.sha256(dump)
            fingerprints[name] = sha
            if let recorded = entry["sha256"] as? String {
                #expect(sha == recorded, "\(label)\(name): sha256sum differs from its sidecar", sourceLocation: sourceLocation)
                #expect(JSON.int(entry["size_bytes"]) == (try FileTools.size(dump)),
                        "\(label)\(name): size differs from its sidecar", sourceLocation: sourceLocation)
            }
            if verified[name] == sha { continue }
            let verify = try ctx.pgbackup(["verify", name, "--json"], database: database)
            #expect(verify.status == 0, "\(label)listed backup \(name) fails verify: \(verify)", sourceLocation: sourceLocation)
            if verify.status == 0, try verify.jsonObject()["verified"] as? Bool == true { verified[name] = sha }
        }

        // 2: orphans (a dump without its sidecar) are reported, never listed as backups.
        let orphans = ctx.dumpFiles().filter { !FileManager.default.fileExists(atPath: ctx.sidecarURL($0).path) }
        for orphan in orphans {
            #expect(!names.contains(orphan), "\(label)orphan \(orphan) is listed as a backup", sourceLocation: sourceLocation)
        }
        let status = try ctx.status(database, sourceLocation: sourceLocation)
        #expect(JSON.int(status["total_backups"]) == names.count,
                "\(label)status counts \(status["total_backups"] ?? "nil"), list shows \(names.count)",
                sourceLocation: sourceLocation)
        #expect(status["running"] is NSNull, "\(label)an operation still holds the lock: \(status["running"] ?? "nil")",
                sourceLocation: sourceLocation)
        // last_backup is the newest listed backup of the database status is about (POSTGRES_DB), none if it has none.
        let newestOfDatabase = complete.first { $0["database"] as? String == database }?["filename"] as? String
        let last = status["last_backup"] as? [String: Any]
        #expect(last?["filename"] as? String == newestOfDatabase,
                "\(label)status.last_backup is not the newest listed backup of \(database)", sourceLocation: sourceLocation)

        // 3 and 6: what existed before is still there, byte for byte.
        for (name, sha) in before.sorted(by: { $0.key < $1.key }) where !mayBeDeleted.contains(name) && !damaged.contains(name) {
            guard FileManager.default.fileExists(atPath: ctx.backupURL(name).path) else {
                Issue.record("\(label)pre-existing backup \(name) is gone", sourceLocation: sourceLocation)
                continue
            }
            #expect(try BackupFiles.sha256(ctx.backupURL(name)) == sha, "\(label)pre-existing backup \(name) changed",
                    sourceLocation: sourceLocation)
            #expect(names.contains(name), "\(label)pre-existing backup \(name) is no longer listed",
                    sourceLocation: sourceLocation)
        }
        return fingerprints
    }

    static func isRegularFile(_ url: URL) -> Bool {
        var info = stat()
        return lstat(url.path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }
}

extension CLITestContext {
    func invariants(_ database: String) -> FaultInvariants { FaultInvariants(ctx: self, database: database) }

    /// Asserts the way a failed create must look (invariant 4): the given exit code, a message naming the cause on
    /// stderr, the failure recorded in status, nothing new listed and nothing left in `.partial`.
    func expectFailedCreate(
        _ result: ProcessResult, exitCode: Int32 = 1, mentioning words: [String], database: String,
        listedBefore: [String], sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        #expect(result.status == exitCode, "\(result)", sourceLocation: sourceLocation)
        let err = result.err.lowercased()
        #expect(words.contains { err.contains($0.lowercased()) }, "stderr should mention one of \(words): \(result.err)",
                sourceLocation: sourceLocation)
        #expect(try listedNames(database) == listedBefore, "a failed create must not add a backup",
                sourceLocation: sourceLocation)
        #expect(partialFiles().isEmpty, "a failed create must remove its partial file: \(partialFiles())",
                sourceLocation: sourceLocation)
        let status = try status(database, sourceLocation: sourceLocation)
        let failure = status["last_failure"] as? [String: Any]
        #expect(failure?["operation"] as? String == "create", "status must record the failure: \(status)",
                sourceLocation: sourceLocation)
        let message = (failure?["message"] as? String ?? "").lowercased()
        #expect(words.contains { message.contains($0.lowercased()) }, "recorded failure: \(message)",
                sourceLocation: sourceLocation)
        #expect(status["healthy"] as? Bool == false, "status must be unhealthy after a failed create",
                sourceLocation: sourceLocation)
    }
}
