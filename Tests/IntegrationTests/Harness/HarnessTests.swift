import Foundation
import TestSupport
import Testing

/// The harness is code too: these prove it does what the CLI tests rely on.
@Suite("Harness: process runner")
struct ProcessRunnerTests {
    @Test func drainsBothPipesWhenTheChildFillsStderrFirst() throws {
        // 1 MiB to stderr before any stdout: a runner that reads stdout to the end first deadlocks.
        let script = "head -c 1048576 /dev/zero >&2; echo done"
        let result = try ProcessRunner.run("/bin/sh", ["-c", script], timeout: .seconds(30))
        #expect(result.status == 0)
        #expect(!result.timedOut)
        #expect(result.stderr.count == 1_048_576)
        #expect(result.out == "done\n")
    }

    @Test func passesStdinAndOnlyTheGivenEnvironment() throws {
        var env = RunningProcess.baseEnvironment()
        env["ONLY_THIS"] = "yes"
        let result = try ProcessRunner.run(
            "/bin/sh", ["-c", "cat; env | sort"], environment: env, stdin: Data("from stdin\n".utf8))
        #expect(result.out.hasPrefix("from stdin\n"))
        #expect(result.out.contains("ONLY_THIS=yes"))
        #expect(result.out.contains("LANG=C.UTF-8"))
        // The test process's own variables (e.g. from swift test) must not leak into children.
        let names = result.out.split(separator: "\n").dropFirst().compactMap { $0.split(separator: "=").first }
        #expect(Set(names).isSubset(of: ["PATH", "HOME", "LANG", "ONLY_THIS", "PWD", "SHLVL", "_"]))
    }

    @Test func stdinIsNeverATerminal() throws {
        let result = try ProcessRunner.run("/bin/sh", ["-c", "if [ -t 0 ]; then echo tty; else echo notty; fi"])
        #expect(result.out == "notty\n")
    }

    @Test func killsAChildThatOutlivesItsTimeout() throws {
        let start = Date()
        let result = try ProcessRunner.run("/bin/sleep", ["30"], timeout: .milliseconds(500))
        #expect(result.timedOut)
        #expect(result.status != 0)
        #expect(Date().timeIntervalSince(start) < 10)
    }

    @Test func signalsALongRunningChild() throws {
        let child = try RunningProcess("/bin/sleep", ["30"], environment: RunningProcess.baseEnvironment())
        #expect(child.isRunning)
        child.signal(SIGTERM)
        let result = child.wait(timeout: .seconds(10))
        #expect(!result.timedOut)
        #expect(result.signal == SIGTERM)
        #expect(result.status == 128 + SIGTERM)
    }

    @Test func commandLineSamplerSeesASecretOnACommandLine() throws {
        let secret = "sampler-secret-\(UUID().uuidString)"
        let sampler = CommandLineSampler(secret: secret)
        // sh's $0 is the secret: it sits in /proc/PID/cmdline for the second the child sleeps.
        let result = try ProcessRunner.run("/bin/sh", ["-c", "sleep 1", secret])
        let seen = sampler.stop()
        #expect(result.status == 0)
        #expect(seen.programs.contains("sh"))
        #expect(seen.leaks.contains { $0.contains(secret) })
        #expect(seen.rounds > 10)
    }

    @Test func findsTheProductBinariesNextToTheTestExecutable() throws {
        for name in ["pgbackup", "pgbackup-fcgi", "pgbackup-scheduler"] {
            let path = try Binaries.path(name)
            #expect(FileManager.default.isExecutableFile(atPath: path))
        }
    }
}

@Suite("Harness: logged process, spawning and temp directories")
struct LoggedProcessTests {
    @Test func aDaemonLeftBehindHoldsNoDescriptorOfOurs() throws {
        let scratch = try TemporaryDirectory(prefix: "harness")
        // The sleeper outlives sh with sh's stdout and stderr: the result must not wait for it.
        let child = try LoggedProcess("/bin/sh", ["-c", "sleep 30 & echo $!"], environment: RunningProcess.baseEnvironment(),
                                      in: scratch.url, name: "daemon")
        let start = Date()
        let result = try child.result(timeout: 10)
        #expect(Date().timeIntervalSince(start) < 5)
        #expect(result.status == 0, "\(result)")
        let sleeper = try #require(pid_t(result.out.trimmingCharacters(in: .whitespacesAndNewlines)), "\(result)")
        #expect(ProcessTable.isAlive(sleeper))
        kill(sleeper, SIGKILL)
        #expect(Poll.until(timeout: 10) { !ProcessTable.isAlive(sleeper) })
    }

    @Test func childrenStartWithNoSignalIgnoredOrBlocked() throws {
        // The test process ignores SIGPIPE (RunningProcess sets it); a child must not inherit that.
        _ = try ProcessRunner.run("/bin/true", [])
        let result = try ProcessRunner.run("/bin/grep", ["-E", "^Sig(Ign|Blk):", "/proc/self/status"])
        let masks = Dictionary(uniqueKeysWithValues: result.out.split(separator: "\n").compactMap { line -> (String, UInt64)? in
            let parts = line.split(separator: "\t")
            guard parts.count == 2, let mask = UInt64(parts[1], radix: 16) else { return nil }
            return (String(parts[0]), mask)
        })
        // Signals 1 to 31 (bits 0 to 30); glibc keeps 32 and 33 for itself and no spawn can reset them.
        let standard: UInt64 = (1 << 31) - 1
        #expect(masks["SigBlk:"].map { $0 & standard } == 0, "\(result)")
        #expect(masks["SigIgn:"].map { $0 & standard } == 0, "\(result)")
    }

    @Test func aTemporaryDirectoryGoesAwayWithItsLastReference() throws {
        var directory: TemporaryDirectory? = try TemporaryDirectory(prefix: "harness", mode: 0o711)
        let path = try #require(directory?.path)
        try directory?.write("file", "text")
        #expect(try FileTools.permissions(URL(fileURLWithPath: path)) == 0o711)
        #expect(FileManager.default.fileExists(atPath: path + "/file"))
        directory = nil
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func aFreeLoopbackPortHasNoListener() throws {
        #expect(!LoopbackPort.isListening(try LoopbackPort.free()))
    }
}

@Suite("Harness: PostgreSQL cluster and dump comparison", .serialized, .postgresCluster)
struct ClusterHarnessTests {
    let cluster: PostgresCluster

    init() throws { cluster = try SharedCluster.require() }

    @Test func sampleSchemaLoadsWithTheDocumentedContent() throws {
        let db = CLITestContext.uniqueName("harness")
        try cluster.createDatabase(db)
        defer { try? cluster.dropDatabase(db) }
        try SampleSchema.load(into: db, on: cluster)
        let facts = try DatabaseFacts.read(db, on: cluster)
        #expect(facts.rowCounts == SampleSchema.rowCounts)
        #expect(facts.canary == SampleSchema.canaryValue)
        #expect(facts.largeObjects == [SampleSchema.largeObjectHex])
        #expect(facts.sequenceValue == "7777")
        #expect(try cluster.psql("SELECT order_total(1) > 0", database: db) == "t")
        #expect(try cluster.psql("SELECT count(*) FROM customer_totals", database: db) == "3000")
        #expect(try cluster.psql("SELECT octet_length(data) FROM binaries WHERE id = 2", database: db) == "4096")
        #expect(try cluster.psql("SELECT body FROM notes WHERE id = 1", database: db).contains("😀"))
    }

    @Test func normalisedDumpsOfEqualDatabasesAreEqualAndAChangeShowsInTheDiff() throws {
        let first = CLITestContext.uniqueName("harness_a")
        let second = CLITestContext.uniqueName("harness_b")
        for db in [first, second] {
            try cluster.createDatabase(db)
            try SampleSchema.load(into: db, on: cluster)
        }
        defer {
            try? cluster.dropDatabase(first)
            try? cluster.dropDatabase(second)
        }
        // Large object oids differ between the two loads; make them equal before comparing.
        let oid = try cluster.psql("SELECT blob FROM attachments", database: first)
        try cluster.psql(
            """
            SELECT lo_unlink(blob) FROM attachments;
            SELECT lo_from_bytea(\(oid), convert_to('\(SampleSchema.largeObjectText)', 'UTF8') || '\\x00ff00'::bytea);
            UPDATE attachments SET blob = \(oid);
            """, database: second)
        let a = try cluster.normalisedDump(first)
        let b = try cluster.normalisedDump(second)
        #expect(a == b)
        #expect(!a.contains("\\restrict") && !a.contains("\n--"))
        try cluster.psql("UPDATE canary SET value = 'changed-value'", database: second)
        let changed = try cluster.normalisedDump(second)
        #expect(a != changed)
        let diff = DumpComparison.shortDiff(a, changed)
        #expect(diff.contains("+1\tchanged-value"))
        #expect(diff.contains("-1\t\(SampleSchema.canaryValue)"))
    }

    @Test func passwordRoleNeedsItsPassword() throws {
        let psql = try ProcessRunner.tool("psql")
        var env = RunningProcess.baseEnvironment()
        env["PGHOST"] = cluster.socketDir.path
        env["PGPORT"] = String(cluster.port)
        let args = ["-X", "-At", "-w", "-U", PostgresCluster.passwordUser, "-d", "postgres", "-c", "SELECT current_user"]
        let without = try ProcessRunner.run(psql, args, environment: env)
        #expect(without.status != 0)
        #expect(without.err.contains("password"))
        env["PGPASSWORD"] = cluster.password
        let with = try ProcessRunner.run(psql, args, environment: env)
        #expect(with.status == 0, "\(with)")
        #expect(with.out == "\(PostgresCluster.passwordUser)\n")
    }

    @Test func survivesAnImmediateStopAndRestart() throws {
        try cluster.stopImmediately()
        #expect(throws: HarnessError.self) { try cluster.psql("SELECT 1") }
        try cluster.start()
        #expect(try cluster.psql("SELECT 1") == "1")
        try cluster.restart()
        #expect(try cluster.psql("SELECT 2") == "2")
    }
}
