import Foundation
import TestSupport
import Testing

/// Encryption at rest with age, against the real age and PostgreSQL: what is stored is ciphertext (no plaintext in
/// the file or `.partial/`), it restores with the identity, it is refused without it or with a wrong one before the
/// database is touched, a flipped byte is damage, a backup restores by hand with age + gunzip/zstd + psql, and the
/// private key never shows up in argv, files or answers.
@Suite("CLI: backups encrypted with age", .serialized, .postgresCluster)
final class EncryptionTests {
    let ctx: CLITestContext
    let keys: AgeKeyPair
    let otherKeys: AgeKeyPair

    init() throws {
        ctx = try CLITestContext()
        keys = try AgeKeyPair(in: ctx.scratch.appending("keys"))
        otherKeys = try AgeKeyPair(in: ctx.scratch.appending("other keys"), name: "other")
    }

    deinit { ctx.remove() }

    var identity: [String: String] { ["BACKUP_AGE_IDENTITY_FILE": keys.identityFile] }

    /// Every file under BACKUP_DIR (sidecars, `.state.json`, `.jobs/`, `.partial/`), each checked for the secret.
    func expectNoSecretInBackupDirectory(sourceLocation: SourceLocation = #_sourceLocation) {
        let enumerator = FileManager.default.enumerator(atPath: ctx.backupDir.path)
        while let relative = enumerator?.nextObject() as? String {
            let path = ctx.backupDir.appendingPathComponent(relative).path
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            #expect(!String(decoding: data, as: UTF8.self).contains(keys.secretKey), "\(relative) holds the private key",
                    sourceLocation: sourceLocation)
        }
    }

    @Test func anEncryptedBackupIsCiphertextVerifiesAndRestoresWithTheIdentity() throws {
        let db = try ctx.sampleDatabase("agetrip")
        let before = try ctx.cluster.normalisedDump(db)
        let sampler = CommandLineSampler(secret: keys.secretKey)
        let publicKeySampler = CommandLineSampler(secret: keys.publicKey)
        let name = try ctx.create(db, description: "encrypted", env: keys.encrypting)
        #expect(name.hasSuffix(".sql.gz.age"), "\(name)")

        let stored = try Data(contentsOf: ctx.backupURL(name))
        #expect(stored.starts(with: Data("age-encryption.org/v1\n".utf8)))
        #expect(stored.range(of: Data(SampleSchema.canaryValue.utf8)) == nil, "the canary is readable in the file")
        #expect(stored.range(of: Data("PostgreSQL database dump".utf8)) == nil)
        #expect(FileTools.names(in: ctx.backupDir.appendingPathComponent(".partial")).isEmpty)
        let sidecar = try ctx.sidecar(name)
        #expect(sidecar["encrypted"] as? Bool == true)
        #expect(sidecar["encryption"] as? String == "age")
        #expect(sidecar["recipients"] as? [String] == [keys.publicKey])
        #expect(sidecar["compression"] as? String == "gzip")
        #expect(try BackupFiles.sha256(ctx.backupURL(name)) == sidecar["sha256"] as? String, "sha256 of the ciphertext")
        #expect(String(decoding: try BackupFiles.gunzip(try Self.saved(keys.decrypt(ctx.backupURL(name)), in: ctx)),
                       as: UTF8.self).contains(SampleSchema.canaryValue))
        #expect(try ctx.list(db).first?["encrypted"] as? Bool == true)

        // Without the key: the stored bytes and the header, and it says the content was not checked.
        let headerOnly = try ctx.pgbackup(["verify", name, "--json"], database: db)
        try #require(headerOnly.status == 0, "\(headerOnly)")
        let headerReport = try JSON.object(headerOnly.stdout)
        #expect(headerReport["checks"] as? [String] == ["sha256", "age_header"])
        #expect(headerReport["content_checked"] as? Bool == false)
        #expect((headerReport["note"] as? String)?.contains("the content was not checked") == true)
        let headerText = try ctx.pgbackup(["verify", name], database: db)
        #expect(headerText.status == 0 && headerText.out.contains("content NOT checked"), "\(headerText)")

        // With it: decrypted, decoded, the trailer found.
        let full = try ctx.pgbackup(["verify", name, "--json", "--identity", keys.identityFile], database: db)
        try #require(full.status == 0, "\(full)")
        #expect(try JSON.object(full.stdout)["checks"] as? [String] == ["sha256", "age", "gzip_crc", "dump_trailer"])
        #expect(try JSON.object(full.stdout)["content_checked"] as? Bool == true)
        let fromSetting = try ctx.pgbackup(["verify", name], database: db, env: identity)
        #expect(fromSetting.status == 0 && fromSetting.out.contains("sha256, age, gzip CRC, dump trailer"), "\(fromSetting)")

        try ctx.cluster.psql(CLIRoundTripTests.changes, database: db)
        let restore = try ctx.pgbackup(["restore", name, "--yes", "--json", "--verbose", "--identity", keys.identityFile],
                                       database: db, env: keys.encrypting)
        try #require(restore.status == 0, "\(restore)")
        DumpComparison.expectEqual(before, try ctx.cluster.normalisedDump(db), "encrypted restore vs before create")
        let safety = try #require(try JSON.object(restore.stdout)["safety_backup"] as? [String: Any])
        #expect((safety["filename"] as? String)?.hasSuffix(".sql.gz.age") == true, "the safety backup is encrypted too")

        let seen = sampler.stop()
        #expect(seen.leaks.isEmpty, "the private key in a command line: \(seen.leaks)")
        #expect(seen.programs.contains("age"), "the sampler never saw age run (\(seen.rounds) rounds)")
        let seenPublic = publicKeySampler.stop()
        #expect(seenPublic.leaks.isEmpty, "the recipients file's content in a command line: \(seenPublic.leaks)")
        for output in [restore, full, headerOnly] {
            #expect(!output.out.contains(keys.secretKey) && !output.err.contains(keys.secretKey))
        }
        expectNoSecretInBackupDirectory()
    }

    static func saved(_ data: Data, in ctx: CLITestContext) throws -> URL {
        let url = ctx.scratch.appending("plain-\(UUID().uuidString).gz")
        try data.write(to: url)
        return url
    }

    @Test func withoutTheIdentityOrWithAWrongOneARestoreIsRefusedAndTheDatabaseIsUntouched() throws {
        let db = try ctx.sampleDatabase("agerefuse")
        let name = try ctx.create(db, env: keys.encrypting)
        try ctx.cluster.psql(CLIRoundTripTests.changes, database: db)
        let changed = try ctx.cluster.normalisedDump(db)
        let files = ctx.directorySnapshot()

        let loose = ctx.scratch.appending("loose.txt").path
        try FileManager.default.copyItem(atPath: keys.identityFile, toPath: loose)
        chmod(loose, 0o644)
        let cases: [(arguments: [String], env: [String: String], code: String, message: String)] = [
            ([], keys.encrypting, "identity_required", "is encrypted with age and no identity"),
            (["--identity", otherKeys.identityFile], [:], "wrong_identity", "is not one of the keys backup"),
            ([], ["BACKUP_AGE_IDENTITY_FILE": otherKeys.identityFile], "wrong_identity", otherKeys.identityFile),
            (["--identity", loose], [:], "invalid_configuration", "must be 600"),
        ]
        for (arguments, env, code, message) in cases {
            let restore = try ctx.pgbackup(["restore", name, "--yes", "--json"] + arguments, database: db, env: env)
            #expect(restore.status == 2, "\(arguments) \(env): \(restore)")
            #expect((try? JSON.object(restore.stdout)["error"] as? String) == code, "\(arguments): \(restore.out)")
            #expect(restore.err.contains(message), "\(arguments): \(restore.err)")
            DumpComparison.expectEqual(changed, try ctx.cluster.normalisedDump(db), "after a refused restore \(arguments)")
            #expect(ctx.directorySnapshot() == files, "no safety backup, nothing half-made: \(arguments)")
        }
        let hint = try ctx.pgbackup(["restore", name, "--yes"], database: db)
        #expect(hint.err.contains("BACKUP_AGE_IDENTITY_FILE") && hint.err.contains("--identity"), "\(hint.err)")

        // A full verify with a wrong key is refused the same way; without one it checks what needs no key.
        let wrongVerify = try ctx.pgbackup(["verify", name, "--identity", otherKeys.identityFile], database: db)
        #expect(wrongVerify.status == 2 && wrongVerify.err.contains("is not one of the keys"), "\(wrongVerify)")
        #expect(try ctx.pgbackup(["verify", name], database: db).status == 0)
    }

    @Test func aFlippedCiphertextByteFailsVerifyAndARestoreBeforeTheDatabaseIsTouched() throws {
        let db = try ctx.sampleDatabase("ageflip")
        let name = try ctx.create(db, env: keys.encrypting)
        let url = ctx.backupURL(name)
        var bytes = try Data(contentsOf: url)
        bytes[bytes.count - 100] ^= 0x20
        try bytes.write(to: url)
        try ctx.cluster.psql(CLIRoundTripTests.changes, database: db)
        let changed = try ctx.cluster.normalisedDump(db)
        let files = ctx.directorySnapshot()

        for extra in [[], ["--identity", keys.identityFile]] {
            let verify = try ctx.pgbackup(["verify", name] + extra, database: db)
            #expect(verify.status == 4, "\(extra): \(verify)")
            #expect(verify.err.contains("SHA-256"), "\(verify.err)")
        }
        let restore = try ctx.pgbackup(["restore", name, "--yes", "--identity", keys.identityFile], database: db)
        #expect(restore.status == 4, "\(restore)")
        DumpComparison.expectEqual(changed, try ctx.cluster.normalisedDump(db), "after the refused restore")
        #expect(ctx.directorySnapshot() == files, "no safety backup")
    }

    @Test func byHandAgeAndGunzipOrZstdAndPsqlRestoreIntoAFreshDatabase() throws {
        let db = try ctx.sampleDatabase("agehand")
        let before = try ctx.cluster.normalisedDump(db)
        let gzip = try ctx.create(db, env: keys.encrypting)
        let zstd = try ctx.create(db, env: keys.encrypting.merging(CodecRoundTripTests.zstd) { _, new in new })
        #expect(zstd.hasSuffix(".sql.zst.age"), "\(zstd)")
        for (name, decoder) in [(gzip, "gunzip"), (zstd, "zstd -dc")] {
            let fresh = try ctx.emptyDatabase("agehand_fresh")
            // The README's recipe, in a shell, with pipefail so no stage's failure hides.
            let script = "set -euo pipefail; age -d -i \"$1\" \"$2\" | \(decoder) | psql -X -q -v ON_ERROR_STOP=1 -d \"$3\""
            var env = RunningProcess.baseEnvironment(home: ctx.home.path)
            let cluster = ctx.cluster.environment(database: fresh)
            env["PGHOST"] = cluster["POSTGRES_HOST"]
            env["PGPORT"] = cluster["POSTGRES_PORT"]
            env["PGUSER"] = "postgres"
            env["PATH"] = [URL(fileURLWithPath: try ProcessRunner.tool("psql")).deletingLastPathComponent().path,
                           env["PATH"] ?? "/usr/bin:/bin"].joined(separator: ":")
            let result = try ProcessRunner.run(try ProcessRunner.tool("bash"),
                                               ["-c", script, "bash", keys.identityFile, ctx.backupURL(name).path, fresh],
                                               environment: env, timeout: .seconds(180))
            try #require(result.status == 0, "\(name): \(result)")
            DumpComparison.expectEqual(before, try ctx.cluster.normalisedDump(fresh), "by hand: age -d | \(decoder) | psql")
        }
    }

    @Test func aMixedDirectoryListsVerifiesExpiresAndRestoresEveryKind() throws {
        let db = try ctx.sampleDatabase("agemixed")
        let plainGzip = try ctx.create(db, description: "plain gzip")
        let plainZstd = try ctx.create(db, description: "plain zstd", env: CodecRoundTripTests.zstd)
        let ageGzip = try ctx.create(db, description: "age gzip", env: keys.encrypting)
        let ageZstd = try ctx.create(db, description: "age zstd", env: keys.encrypting.merging(CodecRoundTripTests.zstd) { _, new in new })
        #expect(Set(try ctx.list(db).compactMap { $0["filename"] as? String }) == [plainGzip, plainZstd, ageGzip, ageZstd])

        let all = try ctx.pgbackup(["verify", "--all", "--json"], database: db)
        #expect(all.status == 0, "without the key, every kind still verifies what it can: \(all)")
        let allWithKey = try ctx.pgbackup(["verify", "--all", "--identity", keys.identityFile], database: db)
        #expect(allWithKey.status == 0 && allWithKey.out.contains("4 of 4 backups verified"), "\(allWithKey)")

        for name in [plainGzip, ageZstd, plainZstd, ageGzip] {
            let restore = try ctx.pgbackup(["restore", name, "--yes", "--no-safety-backup"], database: db, env: identity)
            #expect(restore.status == 0, "\(name): \(restore)")
        }
        let oldAge = try ctx.backdateEncrypted(ageGzip, database: db, hours: 24 * 20)
        let oldPlain = try ctx.backdate(plainZstd, database: db, hours: 24 * 21)
        let cleanup = try ctx.pgbackup(["cleanup", "--json"], database: db,
                                       env: ["BACKUP_RETENTION_DAYS": "7", "BACKUP_MAX_COUNT": "2"])
        try #require(cleanup.status == 0, "\(cleanup)")
        #expect(Set(try JSON.object(cleanup.stdout)["deleted"] as? [String] ?? []) == [oldAge, oldPlain])
        #expect(ctx.dumpFiles() == [plainGzip, ageZstd].sorted())
        #expect(JSON.int(try ctx.status(db)["total_backups"]) == 2)
    }

    @Test func anAgeThatFailsMidStreamFailsTheCreateCleanlyAndLeavesNoFile() throws {
        let db = try ctx.sampleDatabase("agefails")
        let bin = ctx.scratch.appending("fake bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let fake = bin.appendingPathComponent("age").path
        try FileTools.writeExecutable("#!/bin/sh\nhead -c 100000 >/dev/null\necho 'age: error: disk on fire' >&2\nexit 1\n",
                                      to: URL(fileURLWithPath: fake))
        var env = keys.encrypting
        env["PATH"] = bin.path + ":" + (ctx.environment(database: db)["PATH"] ?? "/usr/bin:/bin")
        let started = Date()
        let create = try ctx.pgbackup(["create", "--json"], database: db, env: env)
        #expect(create.status == 1, "\(create)")
        #expect(Date().timeIntervalSince(started) < 60, "no hang")
        #expect(try JSON.object(create.stdout)["error"] as? String == "encryption_failed", "\(create.out)")
        #expect(create.err.contains("encrypting the backup failed") && create.err.contains("disk on fire"), "\(create.err)")
        #expect(ctx.dumpFiles().isEmpty)
        #expect(FileTools.names(in: ctx.backupDir.appendingPathComponent(".partial")).isEmpty)
        #expect((try ctx.status(db)["last_failure"] as? [String: Any])?["operation"] as? String == "create")
    }

    static let badRecipients: [(String, String)] = [
        ("missing", "cannot read the file"), ("empty", "the file holds no recipient"),
        ("bad line", "line 3: not an age X25519 recipient"), ("world-writable", "the file is writable by everyone"),
        ("private key", "line 1: a private key"),
    ]

    @Test(arguments: badRecipients)
    func aBadRecipientsFileStopsEveryBinaryAtStartup(_ kind: String, _ reason: String) throws {
        let db = try ctx.emptyDatabase("agebad")
        let path = ctx.scratch.appending("recipients \(kind).txt").path
        switch kind {
        case "missing": break
        case "empty": try Data().write(to: URL(fileURLWithPath: path))
        case "bad line": try Data("# ok\n\(keys.publicKey)\nage1typo\n".utf8).write(to: URL(fileURLWithPath: path))
        case "private key": try Data("\(keys.secretKey)\n".utf8).write(to: URL(fileURLWithPath: path))
        default:
            try Data("\(keys.publicKey)\n".utf8).write(to: URL(fileURLWithPath: path))
            chmod(path, 0o666)
        }
        let settings = ["BACKUP_AGE_RECIPIENTS_FILE": path]
        let message = "for BACKUP_AGE_RECIPIENTS_FILE: \(reason)"
        for command in [["status"], ["list"], ["create"]] {
            let cli = try ctx.pgbackup(command, database: db, env: settings)
            #expect(cli.status == 2, "pgbackup \(command), \(kind): \(cli)")
            #expect(cli.err.contains(message) && cli.err.contains(path), "pgbackup \(command), \(kind): \(cli.err)")
            #expect(!cli.err.contains(keys.secretKey))
        }
        let scheduler = try ProcessRunner.run(
            try Binaries.path("pgbackup-scheduler"), [], environment: ctx.environment(database: db, extra: settings),
            timeout: .seconds(60))
        #expect(scheduler.status == 2 && scheduler.err.contains(message), "scheduler, \(kind): \(scheduler)")
        let socket = ctx.scratch.appending("fcgi.sock").path
        let responder = try ProcessRunner.run(
            try Binaries.path("pgbackup-fcgi"), ["--socket", socket],
            environment: ctx.environment(database: db, extra: settings), timeout: .seconds(20))
        #expect(responder.status != 0 && !responder.timedOut && responder.err.contains(message), "responder, \(kind): \(responder)")
        #expect(!FileManager.default.fileExists(atPath: socket))
        #expect(ctx.dumpFiles().isEmpty, "no backup, plaintext or not")
    }
}

extension CLITestContext {
    /// `backdate` for an encrypted backup: the same bytes under the older name, so it still verifies.
    func backdateEncrypted(_ name: String, database: String, hours: Double) throws -> String {
        let plainName = String(name.dropLast(".age".count))
        try FileManager.default.moveItem(at: backupURL(name), to: backupURL(plainName))
        var metadata = try sidecar(name)
        metadata["filename"] = plainName
        metadata["encrypted"] = nil
        try JSON.write(metadata, to: sidecarURL(plainName))
        try FileManager.default.removeItem(at: sidecarURL(name))
        let moved = try backdate(plainName, database: database, hours: hours)
        var backdated = try sidecar(moved)
        backdated["filename"] = moved + ".age"
        backdated["encrypted"] = true
        try FileManager.default.moveItem(at: backupURL(moved), to: backupURL(moved + ".age"))
        try JSON.write(backdated, to: sidecarURL(moved + ".age"))
        try FileManager.default.removeItem(at: sidecarURL(moved))
        return moved + ".age"
    }
}
