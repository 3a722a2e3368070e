import Foundation
import TestSupport
import Testing

/// Failed and concurrent creates leave nothing half-made behind.
@Suite("CLI: failed and concurrent operations", .serialized, .postgresCluster)
final class CLIFailureTests {
    let ctx: CLITestContext

    init() throws { ctx = try CLITestContext() }
    deinit { ctx.remove() }

    enum BrokenConnection: String, CaseIterable, Sendable {
        case wrongPort, missingDatabase
    }

    @Test(arguments: BrokenConnection.allCases)
    func pgDumpFailureLeavesNoFileAndIsReported(_ broken: BrokenConnection) throws {
        let db = try ctx.sampleDatabase("dumpfail")
        let good = try ctx.create(db, description: "good")
        let badPort = ctx.cluster.port == 65_000 ? 65_001 : 65_000
        let missing = CLITestContext.uniqueName("nosuchdb")
        // An unreachable server is a failed operation (1); a database that does not exist is a bad setting (2).
        let (override, expected, exitCode): ([String: String], String, Int32) = switch broken {
        case .wrongPort: (["POSTGRES_PORT": String(badPort)], ".s.PGSQL.\(badPort)\"", 1)
        case .missingDatabase: (["POSTGRES_DB": missing], "database \"\(missing)\" does not exist", 2)
        }

        let result = try ctx.pgbackup(["create", "-d", "doomed"], database: db, env: override)
        #expect(result.status == exitCode, "\(result)")
        #expect(result.err.contains(expected), "pg_dump's/libpq's message should reach stderr: \(result.err)")
        #expect(ctx.dumpFiles() == [good])
        #expect(FileTools.names(in: ctx.backupDir.appendingPathComponent(".partial")).isEmpty)
        #expect(try ctx.list(db).compactMap { $0["filename"] as? String } == [good])

        let status = try ctx.status(db)
        let failure = try #require(status["last_failure"] as? [String: Any])
        #expect(failure["operation"] as? String == "create")
        #expect((failure["message"] as? String)?.contains(expected) == true)
        #expect(status["healthy"] as? Bool == false)
        #expect(JSON.int(status["total_backups"]) == 1)

        // The next good create makes it healthy again.
        _ = try ctx.create(db, description: "recovered")
        #expect(try ctx.status(db)["healthy"] as? Bool == true)
    }

    /// The version checks (run side by side) come before the dump: an older pg_dump is refused and never
    /// started for the dump, and nothing is left behind.
    @Test func anOlderPgDumpIsRefusedBeforeItDumps() throws {
        let db = try ctx.sampleDatabase("olddump")
        let good = try ctx.create(db, description: "good")
        let tools = ctx.scratch.appending("old tools")
        try FileManager.default.createDirectory(at: tools, withIntermediateDirectories: true)
        let realDump = try ProcessRunner.tool("pg_dump")
        let marker = ctx.scratch.appending("old-dump-started")
        // Says it is 14.10; otherwise the real pg_dump, after leaving a mark that it was started.
        let script = """
            #!/bin/sh
            if [ "$1" = --version ]; then echo 'pg_dump (PostgreSQL) 14.10'; exit 0; fi
            echo $$ > '\(marker.path)'
            exec '\(realDump)' "$@"

            """
        let stub = tools.appendingPathComponent("pg_dump")
        try FileTools.writeExecutable(script, to: stub)
        let path = "\(tools.path):\(ctx.environment(database: db)["PATH"] ?? "/usr/bin:/bin")"

        let result = try ctx.pgbackup(["create", "-d", "too old"], database: db, env: ["PATH": path])
        #expect(result.status == 1, "\(result)")
        #expect(result.err.contains("pg_dump 14.10 is older than the server (15."), "\(result.err)")
        #expect(!FileManager.default.fileExists(atPath: marker.path), "the refused pg_dump was started for the dump")
        #expect(ctx.dumpFiles() == [good])
        #expect(FileTools.names(in: ctx.backupDir.appendingPathComponent(".partial")).isEmpty)
        let failure = try #require(try ctx.status(db)["last_failure"] as? [String: Any])
        #expect((failure["message"] as? String)?.contains("14.10") == true)
    }

    @Test func twoCreatesAtOnceOneRunsTheOtherIsBusy() throws {
        let db = try ctx.sampleDatabase("concurrent")
        // pg_dump waits for this table lock, so whichever create gets pgbackup's lock stays busy until we
        // release it: the "dump that takes a while" without timing assumptions.
        let tableLock = try ctx.cluster.holdTableLock("customers", in: db, seconds: 300)
        defer { tableLock.release() }

        let first = try ctx.startPgbackup(["create", "-d", "racer one"], database: db)
        let second = try ctx.startPgbackup(["create", "-d", "racer two"], database: db)
        var loser: RunningProcess?
        let deadline = Date().addingTimeInterval(20)
        while loser == nil, Date() < deadline {
            if !first.isRunning { loser = first } else if !second.isRunning { loser = second } else { usleep(10_000) }
        }
        let busy = try #require(loser, "neither create finished while the table was locked")
        let winner = busy === first ? second : first
        let busyResult = busy.wait(timeout: .seconds(10))
        #expect(busyResult.status == 3, "\(busyResult)")
        #expect(busyResult.err.contains("create"), "\(busyResult.err)")
        #expect(busyResult.err.contains("pid \(winner.pid)"), "the message must name the running pid: \(busyResult.err)")
        #expect(busyResult.err.contains("since"))
        #expect(winner.isRunning)

        // While it runs: status names it, list is not blocked, other mutating commands are busy too.
        let status = try ctx.status(db)
        let running = try #require(status["running"] as? [String: Any], "status shows no running operation")
        #expect(running["operation"] as? String == "create")
        #expect(JSON.int(running["pid"]) == Int(winner.pid))
        #expect(try ctx.list(db).isEmpty)
        let cleanup = try ctx.pgbackup(["cleanup"], database: db)
        #expect(cleanup.status == 3, "\(cleanup)")
        let busyJSON = try ctx.pgbackup(["create", "--json"], database: db)
        #expect(busyJSON.status == 3)
        #expect(try JSON.object(busyJSON.stdout)["error"] as? String == "operation_in_progress")

        tableLock.release()
        let winnerResult = winner.wait(timeout: .seconds(120))
        #expect(winnerResult.status == 0, "\(winnerResult)")
        let listing = try ctx.list(db)
        #expect(listing.count == 1)
        #expect(try ctx.status(db)["running"] is NSNull)
        if let name = listing.first?["filename"] as? String {
            #expect(try BackupFiles.gunzipTest(ctx.backupURL(name)).status == 0)
        }
    }

    @Test func staleFilesInPartialAreRemovedByTheNextCreate() throws {
        let db = try ctx.sampleDatabase("stale")
        let partial = ctx.backupDir.appendingPathComponent(".partial")
        try FileManager.default.createDirectory(at: partial, withIntermediateDirectories: true)
        let stale = partial.appendingPathComponent("backup_\(db)_20250101_000000.sql.gz")
        try Data("half a dump".utf8).write(to: stale)
        #expect(try ctx.list(db).isEmpty, "files in .partial are never listed")

        let name = try ctx.create(db)
        #expect(!FileManager.default.fileExists(atPath: stale.path))
        #expect(ctx.dumpFiles() == [name])
    }

    /// Waits until `condition` holds, polling; false after `seconds`.
    private func eventually(_ seconds: Double = 30, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(50_000)
        }
        return false
    }

    /// pids of the server backends in `database` that are waiting for a lock.
    private func waitingBackends(_ database: String) throws -> Int {
        Int(try ctx.cluster.psql(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = '\(database)' AND wait_event_type = 'Lock'")) ?? 0
    }

    @Test func createKilledMidDumpLeavesNoBackupAndTheNextCreateWorks() throws {
        let db = try ctx.sampleDatabase("killcreate")
        let tableLock = try ctx.cluster.holdTableLock("orders", in: db, seconds: 300)
        defer { tableLock.release() }
        let create = try ctx.startPgbackup(["create"], database: db)
        #expect(try eventually { try waitingBackends(db) > 0 }, "pg_dump never started waiting")
        create.signal(SIGKILL)
        let killed = create.wait(timeout: .seconds(30))
        #expect(killed.signal == SIGKILL)
        tableLock.release()

        #expect(ctx.dumpFiles().isEmpty, "a killed create must not leave a dump in BACKUP_DIR")
        #expect(try ctx.list(db).isEmpty)
        #expect(try ctx.status(db)["running"] is NSNull, "the lock dies with its holder")
        let name = try ctx.create(db, description: "after the kill")
        #expect(ctx.dumpFiles() == [name])
        #expect(FileTools.names(in: ctx.backupDir.appendingPathComponent(".partial")).isEmpty)
    }

    @Test func serverStoppingMidDumpFailsTheCreateAndLeavesNothing() throws {
        let db = try ctx.sampleDatabase("serverstop")
        let tableLock = try ctx.cluster.holdTableLock("orders", in: db, seconds: 300)
        let create = try ctx.startPgbackup(["create"], database: db)
        #expect(try eventually { try waitingBackends(db) > 0 }, "pg_dump never started waiting")
        try ctx.cluster.stopImmediately()
        let result = create.wait(timeout: .seconds(60))
        tableLock.release()
        try ctx.cluster.start()

        #expect(result.status == 1, "\(result)")
        #expect(!result.err.isEmpty)
        #expect(ctx.dumpFiles().isEmpty)
        #expect(FileTools.names(in: ctx.backupDir.appendingPathComponent(".partial")).isEmpty)
        #expect(try ctx.list(db).isEmpty)
        #expect(try ctx.status(db)["last_failure"] is [String: Any])
    }

    @Test func restoreKilledMidWayLeavesTheDatabaseUnchanged() throws {
        let db = try ctx.sampleDatabase("killrestore")
        // Several MB of dump: more than pgbackup can have queued into psql's pipe, so when it dies its
        // COMMIT cannot have been sent yet. (A small dump may be wholly queued, COMMIT included, before
        // psql gets far; then the restore legitimately completes.)
        try ctx.cluster.psql(
            "CREATE TABLE padding AS SELECT g AS id, md5(g::text) || md5((g * 31)::text) AS filler FROM generate_series(1, 80000) g",
            database: db)
        let name = try ctx.create(db)
        #expect(try BackupFiles.gunzip(ctx.backupURL(name)).count > 5_000_000)
        try ctx.cluster.psql(CLIRoundTripTests.changes, database: db)
        let dumpBefore = try ctx.cluster.normalisedDump(db)

        // The restore's DROP of `canary` waits for this lock, with earlier statements already run in its
        // transaction; then pgbackup dies. Without a COMMIT from pgbackup, nothing may stick.
        let tableLock = try ctx.cluster.holdTableLock("canary", in: db, seconds: 300)
        defer { tableLock.release() }
        let restore = try ctx.startPgbackup(["restore", name, "--yes", "--no-safety-backup"], database: db)
        #expect(try eventually { try waitingBackends(db) > 0 }, "the restore never reached the locked table")
        #expect(restore.isRunning)
        restore.signal(SIGKILL)
        _ = restore.wait(timeout: .seconds(30))
        tableLock.release()
        // psql, orphaned, ends its session at EOF; the server must roll the transaction back.
        #expect(try eventually {
            try ctx.cluster.psql("SELECT count(*) FROM pg_stat_activity WHERE datname = '\(db)' AND pid <> pg_backend_pid()") == "0"
        }, "the restore's session did not end")

        DumpComparison.expectEqual(dumpBefore, try ctx.cluster.normalisedDump(db), "database after the killed restore")
        #expect(try ctx.cluster.psql("SELECT value FROM canary", database: db) == "changed after the backup")
    }
}
