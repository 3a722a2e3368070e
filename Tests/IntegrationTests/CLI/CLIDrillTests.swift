import Foundation
import TestSupport
import Testing

/// `pgbackup drill` against a real PostgreSQL: the restore goes into a scratch database that is always dropped,
/// the counts recorded at backup time are compared exactly, and the production database never changes.
@Suite("CLI: restore drills", .serialized, .postgresCluster)
final class CLIDrillTests {
    let ctx: CLITestContext
    /// Each test's own scratch prefix, so the leftovers one test looks for are its own.
    let prefix = CLITestContext.uniqueName("drill")

    init() throws { ctx = try CLITestContext() }
    deinit { ctx.remove() }

    /// The sample schema plus what row counting gets wrong: an empty table, a quoted name, a partitioned table
    /// (rows in its partitions only) and an inheritance parent with a child.
    static let extra = """
        CREATE TABLE empty_table (id int);
        CREATE TABLE "Mixed Case" ("Id" int, "some name" text);
        INSERT INTO "Mixed Case" VALUES (1, E'line\\nbreak \\\\. tab\\t');
        CREATE TABLE measurements (at date NOT NULL, v int) PARTITION BY RANGE (at);
        CREATE TABLE measurements_2025 PARTITION OF measurements FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
        CREATE TABLE measurements_2026 PARTITION OF measurements FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
        INSERT INTO measurements SELECT DATE '2025-01-01' + g, g FROM generate_series(0, 499) g;
        CREATE TABLE parent_rows (id int);
        CREATE TABLE child_rows (extra text) INHERITS (parent_rows);
        INSERT INTO parent_rows VALUES (1), (2);
        INSERT INTO child_rows VALUES (3, 'x');
        """

    static var expectedTables: [String: Int] {
        var tables = Dictionary(uniqueKeysWithValues: SampleSchema.rowCounts.map { ("public.\($0.key)", $0.value) })
        tables["public.empty_table"] = 0
        tables["public.\"Mixed Case\""] = 1
        tables["public.measurements_2025"] = 365
        tables["public.measurements_2026"] = 135
        tables["public.parent_rows"] = 2
        tables["public.child_rows"] = 1
        tables["pg_largeobject"] = 1
        return tables
    }

    func database() throws -> String {
        let db = try ctx.sampleDatabase("drilled")
        try ctx.cluster.psql(Self.extra, database: db)
        return db
    }

    var env: [String: String] { ["BACKUP_DRILL_DATABASE": prefix] }

    func drill(_ arguments: [String], _ db: String, env extra: [String: String] = [:]) throws -> ProcessResult {
        try ctx.pgbackup(["drill"] + arguments, database: db, env: env.merging(extra) { _, new in new })
    }

    func scratchDatabases() throws -> [String] {
        try ctx.cluster.psql("SELECT datname FROM pg_database WHERE datname LIKE '\(prefix)%' ORDER BY 1")
            .split(separator: "\n").map(String.init)
    }

    @Test func aGoodBackupPassesWithExactCountsAndLeavesNothing() throws {
        let db = try database()
        let before = try ctx.cluster.normalisedDump(db)
        let name = try ctx.create(db)
        let tables = try #require(try ctx.sidecar(name)["tables"] as? [String: Any])
        #expect(tables.mapValues { JSON.int($0) ?? -1 } == Self.expectedTables)

        let result = try drill(["--json"], db)
        try #require(result.status == 0, "\(result)")
        let answer = try JSON.object(result.stdout)
        #expect(answer["passed"] as? Bool == true && answer["compared"] as? Bool == true)
        #expect(answer["backup_filename"] as? String == name, "the newest backup of POSTGRES_DB by default")
        let found = try #require(answer["tables"] as? [String: Any])
        #expect(found.mapValues { JSON.int($0) ?? -1 } == Self.expectedTables)
        #expect((answer["mismatches"] as? [Any])?.isEmpty == true)
        #expect((answer["scratch_database"] as? String)?.hasPrefix(prefix + "_") == true)
        #expect(try scratchDatabases().isEmpty)
        DumpComparison.expectEqual(before, try ctx.cluster.normalisedDump(db), "production before and after the drill")

        let recorded = try #require(try ctx.sidecar(name)["last_drill"] as? [String: Any])
        #expect(recorded["passed"] as? Bool == true && recorded["backup"] as? String == name)
        #expect(try ctx.sidecar(name)["tables"] != nil, "the sidecar's other fields are kept")
        let status = try ctx.status(db)
        #expect((status["last_drill"] as? [String: Any])?["passed"] as? Bool == true)
        #expect(status["healthy"] as? Bool == true, "\(status)")
        #expect(try ctx.pgbackup(["verify", name], database: db).status == 0, "the rewritten sidecar still verifies")

        let text = try drill([name], db)
        #expect(text.status == 0, "\(text)")
        #expect(text.out.contains("every table's row count matches"), "\(text)")
    }

    @Test func editedCountsFailTheDrillNamingTheMismatch() throws {
        let db = try database()
        let name = try ctx.create(db)
        var sidecar = try ctx.sidecar(name)
        var tables = try #require(sidecar["tables"] as? [String: Any])
        tables["public.orders"] = 4_999
        sidecar["tables"] = tables
        try JSON.write(sidecar, to: ctx.sidecarURL(name))
        let before = try ctx.cluster.normalisedDump(db)

        let result = try drill([name, "--json"], db)
        #expect(result.status == 4, "\(result)")
        #expect(result.err.contains("public.orders expected 4999, found 5000"), "\(result)")
        let answer = try JSON.object(result.stdout)
        #expect(answer["error"] as? String == "drill_failed")
        let drill = try #require(answer["drill"] as? [String: Any])
        let mismatches = try #require(drill["mismatches"] as? [[String: Any]])
        #expect(mismatches.count == 1)
        #expect(mismatches.first?["table"] as? String == "public.orders")
        #expect(JSON.int(mismatches.first?["expected"]) == 4_999 && JSON.int(mismatches.first?["found"]) == 5_000)
        #expect(try scratchDatabases().isEmpty)
        DumpComparison.expectEqual(before, try ctx.cluster.normalisedDump(db), "production before and after the drill")

        #expect((try ctx.sidecar(name)["last_drill"] as? [String: Any])?["passed"] as? Bool == false)
        let status = try ctx.status(db)
        #expect(status["healthy"] as? Bool == false)
        let reasons = (status["unhealthy_reasons"] as? [String]) ?? []
        #expect(reasons.contains { $0.contains("drill") && $0.contains("public.orders") }, "\(reasons)")

        // The right count back: the next drill passes, and status is healthy again.
        tables["public.orders"] = 5_000
        sidecar = try ctx.sidecar(name)
        sidecar["tables"] = tables
        try JSON.write(sidecar, to: ctx.sidecarURL(name))
        #expect(try self.drill([name], db).status == 0)
        let healed = try ctx.status(db)
        #expect(healed["healthy"] as? Bool == true, "\(healed)")
    }

    @Test func aDrillWhoseRestoreFailsLeavesNoScratchDatabase() throws {
        let db = try database()
        let name = try ctx.create(db)
        let before = try ctx.cluster.normalisedDump(db)
        // One byte changed in the middle of the file: the sha256 check, made first, refuses it.
        var bytes = try Data(contentsOf: ctx.backupURL(name))
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: ctx.backupURL(name))

        let result = try drill([name], db)
        #expect(result.status == 4, "\(result)")
        #expect(result.err.contains("restore into a scratch database failed") && result.err.contains("SHA-256"), "\(result)")
        #expect(try scratchDatabases().isEmpty)
        DumpComparison.expectEqual(before, try ctx.cluster.normalisedDump(db), "production before and after the drill")
        let status = try ctx.status(db)
        #expect(status["healthy"] as? Bool == false)
    }

    @Test func aBackupWithoutCountsRestoresAndSaysThereWasNothingToCompare() throws {
        let db = try database()
        let name = try ctx.create(db)
        var sidecar = try ctx.sidecar(name)
        sidecar.removeValue(forKey: "tables")
        try JSON.write(sidecar, to: ctx.sidecarURL(name))

        let result = try drill([name, "--json"], db)
        try #require(result.status == 0, "\(result)")
        let answer = try JSON.object(result.stdout)
        #expect(answer["compared"] as? Bool == false && answer["passed"] as? Bool == true)
        #expect((answer["message"] as? String)?.contains("nothing to compare") == true)
        #expect((answer["tables"] as? [String: Any]).map { $0.mapValues { JSON.int($0) ?? -1 } } == Self.expectedTables)
        #expect(try scratchDatabases().isEmpty)
    }

    @Test func aDrillKilledWithSIGKILLLeavesAScratchDatabaseThatTheNextDrillDrops() throws {
        let (db, name) = try bulkBackup()
        let before = try ctx.cluster.normalisedDump(db)
        let run = try ctx.startPgbackup(["drill", name], database: db, env: env)
        let seen = try waitForScratchDatabase(of: run)
        run.signal(SIGKILL)
        _ = run.wait(timeout: .seconds(30))
        #expect(try scratchDatabases() == seen, "kill -9 leaves the scratch database behind")

        let next = try drill([name, "--json"], db)
        try #require(next.status == 0, "\(next)")
        let answer = try JSON.object(next.stdout)
        #expect(answer["dropped_leftovers"] as? [String] == seen)
        #expect(try scratchDatabases().isEmpty)
        DumpComparison.expectEqual(before, try ctx.cluster.normalisedDump(db), "production before and after the drills")
    }

    /// A database of the scratch shape without a drill's marker is someone else's: the drill leaves it, and its
    /// rows, alone. So does a swap's rollback database under a prefix that makes it look like a scratch one.
    @Test func lookalikesWithoutADrillsMarkerAreLeftAlone() throws {
        let db = try database()
        let name = try ctx.create(db)
        let lookalike = "\(prefix)_20200101_000000"
        try ctx.cluster.psql("CREATE DATABASE \(lookalike)")
        defer { _ = try? ctx.cluster.psql("DROP DATABASE IF EXISTS \(lookalike)") }
        try ctx.cluster.psql("CREATE TABLE precious (x int); INSERT INTO precious VALUES (42);", database: lookalike)

        let swapped = try ctx.pgbackup(["restore", name, "--swap", "--yes"], database: db)
        try #require(swapped.status == 0, "\(swapped)")
        let before = try #require(try ctx.cluster.psql(
            "SELECT datname FROM pg_database WHERE datname LIKE '\(db)_before_%'").split(separator: "\n").first.map(String.init))
        defer { _ = try? ctx.cluster.psql("DROP DATABASE IF EXISTS \(before)") }

        for drillPrefix in [prefix, "\(db)_before"] {
            let result = try drill([name, "--json"], db, env: ["BACKUP_DRILL_DATABASE": drillPrefix])
            try #require(result.status == 0, "\(result)")
            #expect(try JSON.object(result.stdout)["dropped_leftovers"] as? [String] == [], "\(drillPrefix): \(result.stdout)")
        }
        #expect(try ctx.cluster.psql("SELECT x FROM precious", database: lookalike) == "42")
        #expect(try scratchDatabases() == [lookalike])
        let rollback = try ctx.pgbackup(["rollback", "--yes"], database: db)
        #expect(rollback.status == 0, "the swap's previous database must still be there: \(rollback)")
    }

    /// A database whose drill takes long enough to be caught mid-way (600,000 rows), and a backup of it.
    private func bulkBackup() throws -> (db: String, name: String) {
        let db = try database()
        try ctx.cluster.psql("""
            CREATE TABLE bulk (id int, a text);
            INSERT INTO bulk SELECT g, md5(g::text) FROM generate_series(1, 600000) g;
            """, database: db)
        return (db, try ctx.create(db))
    }

    /// The scratch database the running drill created, once it exists.
    private func waitForScratchDatabase(of run: RunningProcess) throws -> [String] {
        let deadline = Date().addingTimeInterval(60)
        var seen: [String] = []
        // Once it carries its marker: killed in the instant before, it is (rightly) no drill's to drop.
        while Date() < deadline, run.isRunning, seen.isEmpty {
            seen = try ctx.cluster.psql("""
                SELECT datname FROM pg_database WHERE datname LIKE '\(prefix)%'
                AND shobj_description(oid, 'pg_database') LIKE '%pgbackup-drill%' ORDER BY 1
                """).split(separator: "\n").map(String.init)
            usleep(5_000)
        }
        try #require(!seen.isEmpty, "the drill never created its scratch database: \(run.wait(timeout: .seconds(60)))")
        return seen
    }

    @Test func aDrillStoppedBySIGTERMDropsItsScratchDatabaseAndSaysSo() throws {
        let (db, name) = try bulkBackup()
        let run = try ctx.startPgbackup(["drill", name], database: db, env: env)
        _ = try waitForScratchDatabase(of: run)
        run.signal(SIGTERM)
        let result = run.wait(timeout: .seconds(60))
        #expect(result.status == 128 + SIGTERM, "\(result)")
        #expect(result.err.contains("drill interrupted by SIGTERM: its scratch database was dropped"), "\(result)")
        #expect(try scratchDatabases().isEmpty)
    }

    @Test func aRoleWithoutCreateDBGetsAClearMessage() throws {
        let db = try database()
        _ = try ctx.create(db)
        let role = CLITestContext.uniqueName("nocreatedb")
        try ctx.cluster.psql("CREATE ROLE \(role) LOGIN NOCREATEDB")
        let result = try drill([], db, env: ["POSTGRES_USER": role])
        #expect(result.status == 2, "\(result)")
        #expect(result.err.contains("role '\(role)' (POSTGRES_USER) may not create databases"), "\(result)")
        #expect(result.err.contains("ALTER ROLE \"\(role)\" CREATEDB"), "\(result)")
        #expect(try scratchDatabases().isEmpty)
    }

    @Test func withoutABackupOfPOSTGRES_DBThereIsNothingToDrill() throws {
        let db = try ctx.emptyDatabase("nodrill")
        let result = try drill([], db)
        #expect(result.status == 2, "\(result)")
        #expect(result.err.contains("no complete backup of '\(db)'"), "\(result)")
    }
}
