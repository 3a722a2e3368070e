import Foundation
import TestSupport
import Testing

/// SIGTERM, SIGINT and SIGHUP (systemd's stop, Ctrl-C, a closed terminal) sent to the real binaries in the middle
/// of a dump and of a restore: each run stops its children, cleans up, says what was interrupted, records it for
/// status and exits 128 + signal; a second signal during clean-up ends it at once.
@Suite("Signals: interrupted creates and restores are loud", .serialized, .postgresCluster)
final class SignalTests {
    let ctx: CLITestContext

    init() throws { ctx = try CLITestContext() }
    deinit { ctx.remove() }

    static let names: [Int32: String] = [SIGTERM: "SIGTERM", SIGINT: "SIGINT", SIGHUP: "SIGHUP"]

    /// Waits until `run` has a child named `command` and returns it.
    private func child(_ command: String, of run: RunningProcess) throws -> pid_t {
        var found: pid_t?
        Poll.until(timeout: 30, interval: 20_000) {
            found = FaultProc.children(of: run.pid, command: command).first
            return found != nil || !run.isRunning
        }
        if found == nil, !run.isRunning {
            // Say why: the run ended before its child appeared (its own output tells what it hit).
            let ended = run.wait(timeout: .seconds(5))
            Issue.record("\(command) never started: pgbackup \(run.pid) ended first: \(ended)")
        }
        return try #require(found, "\(command) never started under pid \(run.pid)")
    }

    /// The pg_dump that writes the dump (not the `pg_dump --version` run before it): it starts once the partial
    /// file exists.
    private func dumpChild(of run: RunningProcess) throws -> pid_t {
        #expect(Poll.until(timeout: 30) { !ctx.partialFiles().isEmpty || !run.isRunning },
                "no partial file while pg_dump runs")
        return try child("pg_dump", of: run)
    }

    private func stateFile() throws -> [String: Any] {
        try JSON.object(try Data(contentsOf: ctx.backupDir.appendingPathComponent(".state.json")))
    }

    /// The interrupted run's failure, as `.state.json` and status both report it.
    private func expectRecorded(_ operation: String, _ signal: String, database: String,
                                sourceLocation: SourceLocation = #_sourceLocation) throws {
        let saved = try #require(try stateFile()["last_failure"] as? [String: Any], sourceLocation: sourceLocation)
        #expect(saved["operation"] as? String == operation, sourceLocation: sourceLocation)
        #expect((saved["message"] as? String)?.contains("interrupted by \(signal)") == true, "\(saved)",
                sourceLocation: sourceLocation)
        let status = try ctx.status(database)
        #expect(status["healthy"] as? Bool == false, sourceLocation: sourceLocation)
        let reasons = status["unhealthy_reasons"] as? [String] ?? []
        #expect(reasons.contains { $0.contains("The last \(operation) failed") && $0.contains("interrupted by \(signal)") },
                "\(reasons)", sourceLocation: sourceLocation)
        #expect(status["running"] is NSNull, "the lock must be free: \(status)", sourceLocation: sourceLocation)
    }

    @Test(arguments: [SIGTERM, SIGINT, SIGHUP])
    func createStoppedMidDumpCleansUpSaysSoAndIsRecorded(_ signal: Int32) throws {
        let name = try #require(Self.names[signal])
        let db = try ctx.sampleDatabase("sigcreate")
        let good = try ctx.create(db, description: "made before")
        // pg_dump waits for this lock: the dump is held mid-way for as long as the test needs.
        let tableLock = try ctx.cluster.holdTableLock("orders", in: db, seconds: 300)
        defer { tableLock.release() }
        let run = try ctx.startPgbackup(["create", "-d", "to be interrupted"], database: db)
        let dump = try dumpChild(of: run)
        run.signal(signal)
        let result = run.wait(timeout: .seconds(30))
        #expect(result.signal == nil && result.status == 128 + signal, "\(result)")
        #expect(result.err.contains("create interrupted by \(name)"), "\(result.err)")
        #expect(Poll.until(timeout: 10) { !ProcessTable.isAlive(dump) }, "pg_dump \(dump) outlived pgbackup")
        #expect(ctx.partialFiles().isEmpty, "the partial dump must be removed: \(ctx.partialFiles())")
        #expect(try ctx.listedNames(db) == [good])
        try expectRecorded("create", name, database: db)
        // The next good run clears it.
        tableLock.release()
        _ = try ctx.create(db, description: "after the interruption")
        #expect(try ctx.status(db)["healthy"] as? Bool == true)
    }

    @Test func restoreStoppedMidwayRollsBackSaysSoAndIsRecorded() throws {
        let source = try ctx.sampleDatabase("sigsrc")
        let backup = try ctx.create(source, description: "the backup being restored")
        try ctx.cluster.psql("UPDATE canary SET value = 'changed after the backup'", database: source)
        let before = try ctx.cluster.normalisedDump(source)
        // psql's DROP TABLE waits for this lock, inside the restore's transaction: a restore held mid-way.
        let tableLock = try ctx.cluster.holdTableLock("orders", in: source, seconds: 300)
        defer { tableLock.release() }
        let run = try ctx.startPgbackup(["restore", backup, "--no-safety-backup", "--yes"], database: source)
        let psql = try child("psql", of: run)
        #expect(try Poll.until(timeout: 30, interval: 20_000) {
            try ctx.cluster.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgbackup' AND wait_event_type = 'Lock'") != "0"
        }, "the restore never reached the locked table")
        run.signal(SIGTERM)
        let result = run.wait(timeout: .seconds(30))
        #expect(result.signal == nil && result.status == 128 + SIGTERM, "\(result)")
        #expect(result.err.contains("restore interrupted by SIGTERM before COMMIT"), "\(result.err)")
        #expect(result.err.contains("left unchanged"), "\(result.err)")
        #expect(Poll.until(timeout: 10) { !ProcessTable.isAlive(psql) }, "psql \(psql) outlived pgbackup")
        tableLock.release()
        #expect(try Poll.until(timeout: 30, interval: 20_000) {
            try ctx.cluster.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgbackup'") == "0"
        })
        DumpComparison.expectEqual(before, try ctx.cluster.normalisedDump(source), "interrupted restore")
        try expectRecorded("restore", "SIGTERM", database: source)
    }

    @Test func aSecondSignalDuringCleanUpExitsAtOnce() throws {
        let db = try ctx.sampleDatabase("sigtwice")
        // A pg_dump that ignores SIGTERM (as a stuck one might): the clean-up after the first signal waits for it…
        let tools = ctx.scratch.appending("stubborn tools")
        try FileManager.default.createDirectory(at: tools, withIntermediateDirectories: true)
        let realDump = try ProcessRunner.tool("pg_dump")
        let script = "#!/bin/sh\nif [ \"$1\" = --version ]; then exec '\(realDump)' --version; fi\ntrap '' TERM INT HUP\nexec sleep 300\n"
        let stub = tools.appendingPathComponent("pg_dump")
        try FileTools.writeExecutable(script, to: stub)
        let path = "\(tools.path):\(ctx.environment(database: db)["PATH"] ?? "/usr/bin:/bin")"
        let run = try ctx.startPgbackup(["create"], database: db, env: ["PATH": path])
        #expect(Poll.until(timeout: 30) { !ctx.partialFiles().isEmpty || !run.isRunning })
        let dump = try child("sleep", of: run)
        defer { kill(dump, SIGKILL) }
        run.signal(SIGTERM)
        usleep(500_000)
        #expect(run.isRunning, "the clean-up should still be waiting for the pg_dump that ignores SIGTERM")
        // …until the second signal, which ends pgbackup (and kills its children) at once.
        run.signal(SIGINT)
        let result = run.wait(timeout: .seconds(10))
        #expect(!result.timedOut && result.status == 128 + SIGINT, "\(result)")
        #expect(result.err.contains("second SIGINT"), "\(result.err)")
        #expect(Poll.until(timeout: 10) { !ProcessTable.isAlive(dump) }, "pg_dump \(dump) survived")
        #expect(try ctx.status(db)["running"] is NSNull)
    }

    @Test func schedulerStoppedMidDumpIsRecorded() throws {
        let db = try ctx.sampleDatabase("sigsched")
        let tableLock = try ctx.cluster.holdTableLock("orders", in: db, seconds: 300)
        defer { tableLock.release() }
        let run = try ctx.startScheduler(database: db)
        let dump = try dumpChild(of: run)
        run.signal(SIGTERM)
        let result = run.wait(timeout: .seconds(30))
        #expect(result.signal == nil && result.status == 128 + SIGTERM, "\(result)")
        #expect(result.err.contains("create interrupted by SIGTERM"), "\(result.err)")
        #expect(Poll.until(timeout: 10) { !ProcessTable.isAlive(dump) })
        #expect(ctx.partialFiles().isEmpty)
        #expect(ctx.dumpFiles().isEmpty)
        try expectRecorded("create", "SIGTERM", database: db)
    }

    @Test func asyncJobStoppedMidDumpFailsAsInterrupted() throws {
        let db = try ctx.sampleDatabase("sigjob")
        let stack = try FaultHTTPStack(environment: ctx.environment(database: db))
        defer { stack.stop() }
        let tableLock = try ctx.cluster.holdTableLock("orders", in: db, seconds: 300)
        defer { tableLock.release() }
        let reply = try stack.request("POST", "/api/backups", json: #"{"description": "async, interrupted"}"#,
                                      headers: ["Prefer: respond-async"])
        #expect(reply.status == 202, "\(reply)")
        let location = try #require(reply.header("location"), "\(reply)")
        let jobPID = pid_t(try #require(JSON.int((try reply.json()["job"] as? [String: Any])?["pid"]), "\(reply)"))
        #expect(Poll.until(timeout: 30) { !FaultProc.children(of: jobPID, command: "pg_dump").isEmpty })
        let dumps = FaultProc.children(of: jobPID, command: "pg_dump")
        kill(jobPID, SIGTERM)
        #expect(Poll.until(timeout: 30) { !ProcessTable.isAlive(jobPID) }, "the job's process did not end")
        #expect(dumps.allSatisfy { !ProcessTable.isAlive($0) }, "pg_dump outlived its job")
        let job = try stack.request("GET", location).json()
        #expect(job["state"] as? String == "failed", "\(job)")
        let error = job["error"] as? [String: Any]
        #expect(error?["error"] as? String == "interrupted", "\(job)")
        #expect((error?["detail"] as? String)?.contains("create interrupted by SIGTERM") == true, "\(job)")
        #expect(ctx.partialFiles().isEmpty)
        let status = try stack.request("GET", "/api/backups/status").json()
        #expect(status["healthy"] as? Bool == false, "\(status)")
        #expect(((status["last_failure"] as? [String: Any])?["message"] as? String)?.contains("interrupted by SIGTERM") == true)
    }
}
