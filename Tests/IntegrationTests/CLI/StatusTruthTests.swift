import Foundation
import TestSupport
import Testing

/// Status tells the truth: what counts as a failure, what `last_backup` is, why it is unhealthy; the scheduler's
/// skipped runs, backups dated in the future or against their name, and `verify --all` racing a delete.
@Suite("Status, verify and the scheduler report what really happened", .serialized, .postgresCluster)
final class StatusTruthTests {
    let ctx: CLITestContext

    init() throws { ctx = try CLITestContext() }
    deinit { ctx.remove() }

    private func reasons(_ status: [String: Any]) -> [String] { status["unhealthy_reasons"] as? [String] ?? [] }

    private func stateFile() throws -> [String: Any] {
        try JSON.object(try Data(contentsOf: ctx.backupDir.appendingPathComponent(".state.json")))
    }

    // MARK: 18.6

    @Test func aClientsBadRequestIsNotAFailureAndEveryUnhealthyStatusSaysWhy() throws {
        let db = try ctx.sampleDatabase("truth")
        // No backup at all: unhealthy, and it says why, in JSON and in the human output.
        let empty = try ctx.status(db)
        #expect(empty["healthy"] as? Bool == false)
        #expect(reasons(empty).contains { $0.contains("There is no backup yet") }, "\(empty)")
        let human = try ctx.pgbackup(["status"], database: db)
        #expect(human.out.contains("NOT healthy") && human.out.contains("There is no backup yet"), "\(human.out)")

        let backup = try ctx.create(db, description: "good")
        #expect(try ctx.status(db)["healthy"] as? Bool == true)
        #expect(reasons(try ctx.status(db)).isEmpty)
        // A typo in the target database is the client's mistake, not the system's.
        let typo = try ctx.pgbackup(["restore", backup, "--target-db", "no_such_db_typo", "--yes"], database: db)
        #expect(typo.status == 2, "\(typo)")
        let afterTypo = try ctx.status(db)
        #expect(afterTypo["last_failure"] is NSNull, "\(afterTypo)")
        #expect(afterTypo["healthy"] as? Bool == true, "\(afterTypo)")

        // A failed create counts, and says so; the next success clears it (the failure stays on record).
        let failed = try ctx.pgbackup(["create"], database: db, env: ["POSTGRES_PORT": "1"])
        #expect(failed.status == 1)
        let afterFailure = try ctx.status(db)
        #expect(afterFailure["healthy"] as? Bool == false)
        #expect(reasons(afterFailure).contains { $0.hasPrefix("The last create failed at") }, "\(afterFailure)")
        _ = try ctx.create(db, description: "recovered")
        let recovered = try ctx.status(db)
        #expect(recovered["healthy"] as? Bool == true, "\(recovered)")
        #expect(recovered["last_failure"] is [String: Any])
    }

    @Test func lastBackupIsTheConfiguredDatabasesNotAPreRestoreBackupOfAnother() throws {
        let db = try ctx.sampleDatabase("mine")
        let other = try ctx.sampleDatabase("other")
        let mine = try ctx.create(db, description: "of POSTGRES_DB")
        // A restore into another database leaves a newer pre-restore backup of that database.
        let restore = try ctx.pgbackup(["restore", mine, "--target-db", other, "--yes"], database: db)
        #expect(restore.status == 0, "\(restore)")
        let names = try ctx.listedNames(db)
        #expect(names.count == 2 && names.first != mine, "\(names)")
        let status = try ctx.status(db)
        let last = try #require(status["last_backup"] as? [String: Any])
        #expect(last["filename"] as? String == mine, "\(status)")

        // Only backups of other databases: not healthy, and it says so.
        let third = try ctx.emptyDatabase("none")
        let none = try ctx.status(third)
        #expect(none["last_backup"] is NSNull)
        #expect(reasons(none).contains { $0.contains("no backup of '\(third)'") }, "\(none)")
    }

    // MARK: 19.2

    @Test func aSchedulerRunThatFindsTheLockBusyIsRecordedAndUnhealthyOnlyWhenOverdue() throws {
        let db = try ctx.sampleDatabase("skipped")
        let settings = ["BACKUP_INTERVAL_HOURS": "1"]
        // A scheduled backup 90 minutes old: due, but within the grace after its due time.
        let made = try ctx.scheduler(database: db, env: settings)
        #expect(made.status == 0, "\(made)")
        let scheduled = try ctx.backdate(try #require(ctx.listedNames(db).first), database: db, hours: 1.5)

        let tableLock = try ctx.cluster.holdTableLock("customers", in: db, seconds: 300)
        defer { tableLock.release() }
        let manual = try ctx.startPgbackup(["create", "-d", "holds the lock"], database: db)
        #expect(Poll.until(timeout: 30) { (try? ctx.status(db, env: settings))?["running"] is [String: Any] })
        let busy = try ctx.scheduler(database: db, env: settings)
        #expect(busy.status == 3, "\(busy)")
        #expect(busy.err.contains("skipped"), "\(busy.err)")
        let state = try stateFile()
        let skipped = try #require(state["last_skipped_run"] as? [String: Any], "\(state)")
        #expect((skipped["reason"] as? String)?.contains("another operation is running: create") == true)
        tableLock.release()
        #expect(manual.wait(timeout: .seconds(60)).status == 0)

        let recent = try ctx.status(db, env: settings)
        #expect(recent["last_skipped_run"] is [String: Any], "\(recent)")
        #expect(recent["healthy"] as? Bool == true, "one skipped run within the grace is not unhealthy: \(recent)")

        // The same skip with the scheduled backup three hours old: the schedule is overdue.
        _ = try ctx.backdate(scheduled, database: db, hours: 3)
        let overdue = try ctx.status(db, env: settings)
        #expect(overdue["healthy"] as? Bool == false)
        #expect(reasons(overdue).contains { $0.contains("made no backup") && $0.contains("overdue") }, "\(overdue)")
    }

    // MARK: 19.3

    @Test func aSidecarDatedInTheFutureOrAgainstItsNameIsReported() throws {
        let db = try ctx.sampleDatabase("future")
        let backup = try ctx.create(db, description: "its sidecar is edited")
        #expect(try ctx.pgbackup(["verify", backup], database: db).status == 0)
        var sidecar = try ctx.sidecar(backup)
        sidecar["created_at"] = TimeText.iso8601(Date().addingTimeInterval(365 * 86_400))
        // Replaced by rename, as an editor or a restore from elsewhere would: status sees it at once.
        try JSONSerialization.data(withJSONObject: sidecar, options: [.sortedKeys]).write(to: ctx.sidecarURL(backup), options: .atomic)

        let status = try ctx.status(db)
        #expect(status["healthy"] as? Bool == false)
        #expect(reasons(status).contains { $0.contains(backup) && $0.contains("dated in the future") }, "\(status)")
        #expect(reasons(status).contains { $0.contains(backup) && $0.contains("disagrees with the time in its name") })
        let verify = try ctx.pgbackup(["verify", backup], database: db)
        #expect(verify.status == 4, "\(verify)")
        #expect(verify.err.contains("disagrees with the time in its name"), "\(verify.err)")
        let all = try ctx.pgbackup(["verify", "--all"], database: db)
        #expect(all.status == 4, "\(all)")
        #expect(all.out.contains("disagrees with the time in its name"), "\(all.out)")

        // A backup whose name and sidecar agree but lie ahead of the clock (a clock stepped back).
        let ahead = try ctx.backdate(backup, database: db, hours: -48)
        let skew = try ctx.status(db)
        #expect(reasons(skew).contains { $0.contains(ahead) && $0.contains("dated in the future") }, "\(skew)")
        #expect(!reasons(skew).contains { $0.contains("disagrees") }, "\(skew)")
        #expect(try ctx.pgbackup(["verify", ahead], database: db).status == 0)
    }

    // MARK: 19.4

    @Test func verifyAllReportsABackupDeletedMeanwhileAsGone() throws {
        let small = try ctx.sampleDatabase("vsmall")
        let victims = try (0..<3).map { try ctx.create(small, description: "victim \($0)") }
        let db = try ctx.bulkDatabase("vrace", rows: 600_000)
        let big = try ctx.create(db, description: "newest, verified first")
        let bigPath = ctx.backupURL(big).path
        let run = try ctx.startPgbackup(["verify", "--all", "--json"], database: db)
        // Freeze it while it reads the newest backup, delete the others, let it go on.
        var frozen = false
        Poll.until(timeout: 30, interval: 500) {
            guard run.isRunning else { return true }
            let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(run.pid)/fd")) ?? []
            guard fds.contains(where: { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(run.pid)/fd/\($0)")) == bigPath })
            else { return false }
            run.signal(SIGSTOP)
            frozen = true
            return true
        }
        try #require(frozen, "verify --all finished before it could be frozen")
        for victim in victims {
            try FileManager.default.removeItem(at: ctx.sidecarURL(victim))
            try FileManager.default.removeItem(at: ctx.backupURL(victim))
        }
        run.signal(SIGCONT)
        let result = run.wait(timeout: .seconds(60))
        #expect(result.status == 0, "\(result)")
        let answer = try JSON.object(result.stdout)
        #expect(JSON.int(answer["failed"]) == 0 && JSON.int(answer["gone"]) == 3, "\(answer)")
        let results = answer["results"] as? [[String: Any]] ?? []
        #expect(results.filter { $0["gone"] as? Bool == true }.compactMap { $0["filename"] as? String }.sorted() == victims.sorted())
        #expect(results.contains { $0["filename"] as? String == big && $0["verified"] as? Bool == true })
    }

    // MARK: 19.5

    @Test func aSymlinkedBackupDirectoryIsResolvedAndANonDirectoryIsABadSetting() throws {
        let db = try ctx.sampleDatabase("linked")
        let real = ctx.scratch.appending("bigger disk")
        try FileManager.default.createDirectory(at: real, withIntermediateDirectories: true)
        let link = ctx.scratch.appending("link to backups")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: real)
        let env = ["BACKUP_DIR": link.path]
        let created = try ctx.pgbackup(["create", "--json"], database: db, env: env)
        #expect(created.status == 0, "\(created)")
        let name = try #require((try JSON.object(created.stdout)["backup"] as? [String: Any])?["filename"] as? String)
        #expect(FileManager.default.fileExists(atPath: real.appendingPathComponent(name).path))
        let status = try ctx.status(db, env: env)
        #expect(status["backup_directory"] as? String == real.path, "\(status)")
        #expect(JSON.int(status["total_backups"]) == 1)
        #expect(try ctx.pgbackup(["verify", name], database: db, env: env).status == 0)

        // A link planted inside the directory is still not followed.
        let planted = "backup_\(db)_20200101_000000.sql.gz"
        try FileManager.default.createSymbolicLink(at: real.appendingPathComponent(planted),
                                                   withDestinationURL: real.appendingPathComponent(name))
        let list = try JSON.array(try ctx.pgbackup(["list", "--json"], database: db, env: env).stdout)
        #expect(!list.contains { $0["filename"] as? String == planted && $0["error"] == nil }, "\(list)")
        #expect(try ctx.pgbackup(["verify", planted], database: db, env: env).status != 0)

        // Not a directory, or a link to nothing: a bad setting (exit 2) naming BACKUP_DIR, for every command.
        let file = ctx.scratch.appending("a file")
        try Data("x".utf8).write(to: file)
        let dangling = ctx.scratch.appending("dangling")
        try FileManager.default.createSymbolicLink(atPath: dangling.path, withDestinationPath: "/nonexistent/pgbackup")
        for bad in [file, dangling] {
            for command in [["status"], ["list"], ["create"]] {
                let result = try ctx.pgbackup(command, database: db, env: ["BACKUP_DIR": bad.path])
                #expect(result.status == 2, "\(command) with BACKUP_DIR=\(bad.path): \(result)")
                #expect(result.err.contains("BACKUP_DIR"), "\(result.err)")
            }
        }
    }

    // MARK: 19.6

    @Test(.enabled(if: geteuid() == 0, "bind mounts need root"))
    func aReadOnlyBackupDirectoryIsReportedAndCanStillBeRestoredFrom() throws {
        let db = try ctx.sampleDatabase("readonly")
        let backup = try ctx.create(db, description: "in the archive")
        try ctx.cluster.psql("UPDATE canary SET value = 'changed after the backup'", database: db)
        let mountPoint = ctx.scratch.appending("archive (ro)")
        try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
        let mount = try ProcessRunner.tool("mount")
        let umount = try ProcessRunner.tool("umount")
        let bound = try ProcessRunner.run(mount, ["--bind", ctx.backupDir.path, mountPoint.path])
        try #require(bound.status == 0, "\(bound)")
        defer { _ = try? ProcessRunner.run(umount, [mountPoint.path]) }
        let remounted = try ProcessRunner.run(mount, ["-o", "remount,bind,ro", mountPoint.path])
        try #require(remounted.status == 0, "\(remounted)")
        let env = ["BACKUP_DIR": mountPoint.path]
        let stateBefore = try Data(contentsOf: ctx.backupDir.appendingPathComponent(".state.json"))

        let status = try ctx.status(db, env: env)
        #expect(status["healthy"] as? Bool == false)
        #expect(reasons(status).contains { $0.contains("read-only file system") }, "\(status)")
        #expect(try ctx.pgbackup(["list"], database: db, env: env).status == 0)
        #expect(try ctx.pgbackup(["verify", "--all"], database: db, env: env).status == 0)

        let create = try ctx.pgbackup(["create"], database: db, env: env)
        #expect(create.status == 1 && create.err.contains("read-only file system"), "\(create)")
        let withSafety = try ctx.pgbackup(["restore", backup, "--yes"], database: db, env: env)
        #expect(withSafety.status == 1 && withSafety.err.contains("--no-safety-backup"), "\(withSafety)")
        #expect(try ctx.cluster.psql("SELECT value FROM canary", database: db) == "changed after the backup")

        let restore = try ctx.pgbackup(["restore", backup, "--no-safety-backup", "--yes"], database: db, env: env)
        #expect(restore.status == 0, "\(restore)")
        #expect(try ctx.cluster.psql("SELECT value FROM canary", database: db) == SampleSchema.canaryValue)
        #expect(try Data(contentsOf: ctx.backupDir.appendingPathComponent(".state.json")) == stateBefore)
    }
}
