import Foundation
import TestSupport
import Testing

/// Issue 12's faults, each followed by the fault suite's invariant checker: the remote down during an upload, the
/// server killed mid-upload, a remote dump deleted or corrupted behind pgbackup's back, wrong credentials, and a
/// world-readable config file. (The 60-day outage is `RemoteOutageTests`, with an injected clock.)
@Suite("Off-site: faults", .serialized, .postgresCluster,
       .enabled(if: MotoServer.isInstalled && ProcessRunner.which("rclone") != nil))
final class OffsiteFaultTests {
    let ctx: CLITestContext

    init() throws { ctx = try CLITestContext() }
    deinit { ctx.remove() }

    private func remoteStatus(_ db: String, _ env: [String: String]) throws -> [String: Any] {
        try #require(try ctx.status(db, env: env)["remote"] as? [String: Any])
    }

    private func pendingNames(_ db: String, _ env: [String: String]) throws -> [String] {
        ((try remoteStatus(db, env)["pending_uploads"] as? [[String: Any]]) ?? []).compactMap { $0["filename"] as? String }
    }

    @Test func anUnreachableRemoteLeavesTheBackupPendingAndPushRetriesItLater() throws {
        let remote = try OffsiteFixture(.s3, in: ctx.scratch)
        defer { remote.stop() }
        let db = try ctx.sampleDatabase("offdown")
        var env = remote.environment
        env["BACKUP_MAX_COUNT"] = "1"
        env["BACKUP_RETENTION_DAYS"] = "1"
        env["BACKUP_INTERVAL_HOURS"] = "1"
        env["BACKUP_REMOTE_MAX_COUNT"] = "5"
        env["BACKUP_REMOTE_RETENTION_DAYS"] = "30"
        try remote.breakEndpoint()
        let made = try ctx.create(db, env: env)
        #expect(try pendingNames(db, env) == [made])
        let offsite = try remoteStatus(db, env)
        let error = try #require(offsite["last_upload_error"] as? [String: Any])
        #expect((error["message"] as? String)?.contains("off-site copy failed") == true, "\(error)")
        #expect(try ctx.status(db, env: env)["healthy"] as? Bool == true, "pending for less than an interval is healthy")
        // Made three days ago (renamed with its pending entry), so local retention (newest 1, 1 day) wants it gone.
        let first = try ctx.backdate(made, database: db, hours: 72)
        try renamePending(made, to: first)
        #expect(try ctx.list(db).first?["filename"] as? String == first)
        let before = try ctx.invariants(db).check("remote down")

        // A second backup while the remote is down: retention (newest 1) would delete the first, which is pending.
        let second = try ctx.create(db, env: env)
        let cleanup = try ctx.pgbackup(["cleanup", "--json"], database: db, env: env)
        #expect(try cleanup.jsonObject()["kept_pending_upload"] as? [String] == [first], "\(cleanup)")
        #expect(try pendingNames(db, env) == [first, second], "oldest first")
        #expect(try remote.names().isEmpty, "nothing may be listed as remote")
        let listed = try list(db, env)
        #expect(listed.allSatisfy { $0["locations"] as? [String] == ["local"] }, "\(listed)")
        // Pending longer than BACKUP_INTERVAL_HOURS: unhealthy, naming the backup.
        try agePending(hours: 2)
        let unhealthy = try ctx.status(db, env: env)
        #expect(unhealthy["healthy"] as? Bool == false)
        #expect((unhealthy["unhealthy_reasons"] as? [String])?.contains { $0.contains(first) } == true, "\(unhealthy)")

        try remote.repairEndpoint()
        let push = try ctx.pgbackup(["push", "--json"], database: db, env: env)
        try #require(push.status == 0, "\(push)")
        #expect(try push.jsonObject()["uploaded"] as? [String] == [first, second])
        #expect(try pendingNames(db, env).isEmpty)
        #expect(Set(try remote.names()) == Set([first, first + ".json", second, second + ".json"]))
        #expect(try ctx.status(db, env: env)["healthy"] as? Bool == true)
        try ctx.invariants(db).check(unchanged: before, "after push")
    }

    @Test func aServerKilledMidUploadLeavesTheBackupPendingUntilANewRemoteTakesIt() throws {
        var remote = try OffsiteFixture(.s3, in: ctx.scratch)
        defer { remote.stop() }
        let db = try ctx.sampleDatabase("offkill")
        try ctx.cluster.psql("CREATE TABLE noise AS SELECT g, decode(md5(g::text) || md5((g + 1)::text) || md5((g + 2)::text) "
            + "|| md5((g + 3)::text) || md5((g + 4)::text) || md5((g + 5)::text), 'hex') AS b "
            + "FROM generate_series(1, 150000) g;", database: db)
        let running = try ctx.startPgbackup(["create", "--json"], database: db, env: remote.environment)
        let uploading = Poll.until(timeout: 120, interval: 1_000) { Self.rcloneIsUploading() }
        remote.stop()
        let result = running.wait(timeout: .seconds(300))
        try #require(uploading, "rclone was never seen uploading")
        try #require(result.status == 0, "the local backup must not fail: \(result)")
        let name = try #require((try result.jsonObject()["backup"] as? [String: Any])?["filename"] as? String)
        #expect(try pendingNames(db, remote.environment) == [name])
        let before = try ctx.invariants(db).check("server killed mid-upload")

        remote = try OffsiteFixture(.s3, in: ctx.scratch)
        let push = try ctx.pgbackup(["push", "--json"], database: db, env: remote.environment)
        try #require(push.status == 0, "\(push)")
        #expect(try remote.names() == [name, name + ".json"])
        #expect(try remote.sha256(name, scratch: ctx.scratch) == before[name])
        try ctx.invariants(db).check(unchanged: before, "after push to the new remote")
    }

    @Test(arguments: [OffsiteFixture.Kind.local, .s3])
    func aRemoteDumpChangedBehindOurBackFailsVerifyAndIsNeverRestored(_ kind: OffsiteFixture.Kind) throws {
        let remote = try OffsiteFixture(kind, in: ctx.scratch)
        defer { remote.stop() }
        let db = try ctx.sampleDatabase("offdamage")
        let env = remote.environment
        let name = try ctx.create(db, env: env)
        let good = try remote.object(name)

        // Corrupted: the same size, one byte changed in the middle.
        var bad = good
        bad[bad.count / 2] ^= 0xff
        try remote.replace(name, with: bad, scratch: ctx.scratch)
        let verify = try ctx.pgbackup(["verify", "--remote", name], database: db, env: env)
        #expect(verify.status == 4, "\(verify)")
        #expect(verify.err.contains(name) && verify.err.contains("the copy on \(remote.remote)"), "\(verify)")
        #expect(try ctx.pgbackup(["verify", name], database: db, env: env).status == 0, "the local copy is fine")

        // The machine is lost; the restore from the damaged remote copy is refused before the database is touched.
        try FileManager.default.removeItem(at: ctx.backupDir)
        #expect(try ctx.pgbackup(["sync"], database: db, env: env).status == 0)
        try ctx.cluster.psql("UPDATE canary SET value = 'after the backup';", database: db)
        let restore = try ctx.pgbackup(["restore", name, "--yes", "--no-safety-backup"], database: db, env: env)
        #expect(restore.status == 4, "\(restore)")
        #expect(restore.err.contains("SHA-256"), "\(restore)")
        #expect(try DatabaseFacts.read(db, on: ctx.cluster).canary == "after the backup")
        #expect(ctx.dumpFiles().isEmpty, "nothing fetched may be kept")
        try ctx.invariants(db).check("damaged remote copy")

        // Deleted: verify --remote names what is missing.
        try remote.delete(name)
        let gone = try ctx.pgbackup(["verify", "--remote", name], database: db, env: env)
        #expect(gone.status == 4, "\(gone)")
        #expect(gone.err.contains("dump is missing on the remote"), "\(gone)")
    }

    @Test func wrongCredentialsAreAClearErrorThatNeverEchoesTheSecret() throws {
        let remote = try OffsiteFixture(.s3, in: ctx.scratch)
        defer { remote.stop() }
        let moto = try #require(remote.moto)
        let wrong = "Wr0ngSecretThatMustNotAppear/" + String(moto.secret.prefix(8))
        try remote.writeConfig(moto.rcloneConfig(secret: wrong))
        let db = try ctx.sampleDatabase("offcreds")
        let env = remote.environment
        let create = try ctx.pgbackup(["create", "--json"], database: db, env: env)
        try #require(create.status == 0, "the local backup must not fail: \(create)")
        let sync = try ctx.pgbackup(["sync"], database: db, env: env)
        #expect(sync.status == 1, "\(sync)")
        #expect(sync.err.contains("SignatureDoesNotMatch") || sync.err.contains("403"), "\(sync)")
        let status = try ctx.pgbackup(["status", "--json"], database: db, env: env)
        let message = try #require((try remoteStatus(db, env)["last_upload_error"] as? [String: Any])?["message"] as? String)
        #expect(message.contains("SignatureDoesNotMatch") || message.contains("403"), "\(message)")
        for text in [create.combined, sync.combined, status.combined] {
            #expect(!text.contains(wrong) && !text.contains(moto.secret), "a secret was echoed: \(text)")
        }
        for file in FileTools.allFiles(under: ctx.backupDir) {
            let bytes = try Data(contentsOf: file)
            #expect(bytes.range(of: Data(wrong.utf8)) == nil, "the secret is in \(file.path)")
        }
        try ctx.invariants(db).check("wrong credentials")
    }

    @Test(arguments: [0o644, 0o640, 0o604])
    func aConfigFileOthersCanReadIsRefusedNamingIt(_ mode: Int) throws {
        let remote = try OffsiteFixture(.local, in: ctx.scratch)
        try remote.writeConfig("[offsite]\ntype = local\n", mode: mode_t(mode))
        let db = try ctx.emptyDatabase("offmode")
        for command in [["status"], ["list"], ["create"]] {
            let result = try ctx.pgbackup(command, database: db, env: remote.environment)
            #expect(result.status == 2, "\(command): \(result)")
            #expect(result.err.contains("BACKUP_RCLONE_CONFIG") && result.err.contains(remote.configFile.path), "\(result)")
            #expect(result.err.contains("0600"), "\(result)")
        }
        #expect(ctx.dumpFiles().isEmpty)
    }

    private func renamePending(_ old: String, to new: String) throws {
        let file = ctx.backupDir.appendingPathComponent(".remote.json")
        let text = try String(contentsOf: file, encoding: .utf8).replacingOccurrences(of: old, with: new)
        try Data(text.utf8).write(to: file)
    }

    /// Moves every pending upload's `since` two hours back (as if the remote had been down that long).
    private func agePending(hours: Double) throws {
        let file = ctx.backupDir.appendingPathComponent(".remote.json")
        var state = try JSON.object(try Data(contentsOf: file))
        let pending = (state["pending"] as? [[String: Any]]) ?? []
        state["pending"] = pending.map { entry -> [String: Any] in
            var entry = entry
            entry["since"] = TimeText.iso8601(Date().addingTimeInterval(-hours * 3600))
            return entry
        }
        try JSON.write(state, to: file)
    }

    private func list(_ db: String, _ env: [String: String]) throws -> [[String: Any]] {
        let result = try ctx.pgbackup(["list", "--json"], database: db, env: env)
        try #require(result.status == 0, "\(result)")
        return try JSON.array(result.stdout)
    }

    /// Whether an `rclone copyto` of a dump is running now.
    static func rcloneIsUploading() -> Bool {
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.filter { $0.allSatisfy(\.isNumber) } ?? []
        return pids.contains { pid in
            guard let bytes = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let text = String(decoding: bytes.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
            return text.contains("rclone") && text.contains(" copyto ") && text.contains(".sql.gz ")
        }
    }
}
