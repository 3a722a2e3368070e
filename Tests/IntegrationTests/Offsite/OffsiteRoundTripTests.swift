import Foundation
import TestSupport
import Testing

/// Issue 12's round trip against a real S3 API (moto, signatures checked) and rclone's `local` type: create →
/// remote objects present with matching sha256 → wipe BACKUP_DIR → sync → list → restore → the data is the source's.
/// This is also the README's disaster-recovery runbook, performed.
@Suite("Off-site: round trips through rclone", .serialized, .postgresCluster,
       .enabled(if: MotoServer.isInstalled && ProcessRunner.which("rclone") != nil))
final class OffsiteRoundTripTests {
    let ctx: CLITestContext

    init() throws { ctx = try CLITestContext() }
    deinit { ctx.remove() }

    @Test(arguments: [OffsiteFixture.Kind.s3, .local])
    func disasterRecoveryFromTheRemoteRestoresTheSourceData(_ kind: OffsiteFixture.Kind) throws {
        let remote = try OffsiteFixture(kind, in: ctx.scratch)
        defer { remote.stop() }
        let db = try ctx.sampleDatabase("offsite")
        let dumpBefore = try ctx.cluster.normalisedDump(db)
        let factsBefore = try DatabaseFacts.read(db, on: ctx.cluster)

        let name = try ctx.create(db, env: remote.environment)
        // On the remote: the dump and its sidecar, under the local layout, with the local sha256.
        #expect(try remote.names() == [name, name + ".json"])
        let sidecar = try JSON.object(try remote.object(name + ".json"))
        let localSHA = try BackupFiles.sha256(ctx.backupURL(name))
        #expect(sidecar["sha256"] as? String == localSHA)
        #expect(try remote.sha256(name, scratch: ctx.scratch) == localSHA)
        let listed = try list(db, remote)
        #expect(listed.first?["locations"] as? [String] == ["local", "remote"], "\(listed)")
        let status = try ctx.status(db, env: remote.environment)
        let offsite = try #require(status["remote"] as? [String: Any], "\(status)")
        #expect((offsite["pending_uploads"] as? [Any])?.isEmpty == true)
        #expect(offsite["index_refreshed_at"] is String)
        #expect(status["healthy"] as? Bool == true, "\(status)")
        #expect(try ctx.pgbackup(["verify", "--remote", name], database: db, env: remote.environment).status == 0)

        // The machine is lost: a new, empty BACKUP_DIR, the same BACKUP_REMOTE.
        try FileManager.default.removeItem(at: ctx.backupDir)
        try ctx.cluster.psql(CLIRoundTripTests.changes, database: db)
        let sync = try ctx.pgbackup(["sync", "--json"], database: db, env: remote.environment)
        try #require(sync.status == 0, "\(sync)")
        #expect(JSON.int(try sync.jsonObject()["remote_backups"]) == 1)
        let afterSync = try list(db, remote)
        #expect(afterSync.map { $0["filename"] as? String } == [name])
        #expect(afterSync.first?["locations"] as? [String] == ["remote"])
        #expect(afterSync.first?["sha256"] as? String == localSHA)

        let restore = try ctx.pgbackup(["restore", name, "--yes", "--no-safety-backup", "--json"],
                                       database: db, env: remote.environment)
        try #require(restore.status == 0, "\(restore)")
        let factsAfter = try DatabaseFacts.read(db, on: ctx.cluster)
        #expect(factsAfter == factsBefore)
        #expect(factsAfter.canary == SampleSchema.canaryValue)
        DumpComparison.expectEqual(dumpBefore, try ctx.cluster.normalisedDump(db), "restored from the remote vs the source")
        // Fetched, checked and kept: the backup is local again, and on the remote still.
        #expect(try list(db, remote).first?["locations"] as? [String] == ["local", "remote"])
        try ctx.invariants(db).check("after the disaster recovery")
    }

    @Test func uploadsNeverPutThePasswordOrTheS3SecretOnACommandLine() throws {
        let remote = try OffsiteFixture(.s3, in: ctx.scratch)
        defer { remote.stop() }
        let db = try ctx.sampleDatabase("offargv")
        // Incompressible rows make the dump big enough (multipart, several seconds) for the sampler to see rclone.
        try ctx.cluster.psql("CREATE TABLE noise AS SELECT g, decode(md5(g::text) || md5((g + 1)::text) || md5((g + 2)::text) "
            + "|| md5((g + 3)::text) || md5((g + 4)::text) || md5((g + 5)::text), 'hex') AS b "
            + "FROM generate_series(1, 150000) g;", database: db)
        var env = remote.environment
        env["POSTGRES_USER"] = PostgresCluster.passwordUser
        let passwordFile = ctx.scratch.appending("pw")
        try Data((ctx.cluster.password + "\n").utf8).write(to: passwordFile)
        env["POSTGRES_PASSWORD_FILE"] = passwordFile.path
        let password = CommandLineSampler(secret: ctx.cluster.password)
        let secret = CommandLineSampler(secret: remote.secret)
        let create = try ctx.pgbackup(["create", "--json"], database: db, env: env)
        let seenPassword = password.stop()
        let seenSecret = secret.stop()
        try #require(create.status == 0, "\(create)")
        #expect(seenSecret.programs.contains("rclone"), "the sampler never saw rclone running, so it proved nothing")
        #expect(seenPassword.leaks.isEmpty, "password on a command line: \(seenPassword.leaks)")
        #expect(seenSecret.leaks.isEmpty, "S3 secret on a command line: \(seenSecret.leaks)")
        #expect(!create.combined.contains(remote.secret))
        #expect(try remote.names().count == 2)
    }

    private func list(_ db: String, _ remote: OffsiteFixture) throws -> [[String: Any]] {
        let result = try ctx.pgbackup(["list", "--json"], database: db, env: remote.environment)
        try #require(result.status == 0, "\(result)")
        return try JSON.array(result.stdout)
    }
}
