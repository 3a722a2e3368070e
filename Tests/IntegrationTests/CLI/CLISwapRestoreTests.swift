import Foundation
import TestSupport
import Testing

/// `restore --swap` and `rollback` (issue 15 part 2), on the real server: the new database is made like the target
/// (owner, settings, grants, comment), loaded, checked, and swapped in by one renaming transaction.
@Suite("CLI: restore --swap and rollback", .serialized, .postgresCluster)
final class CLISwapRestoreTests {
    let ctx: CLITestContext

    init() throws { ctx = try CLITestContext() }
    deinit { ctx.remove() }

    /// The database-level facts a swap must carry over: owner, ACL, settings (per role too), comment, encoding.
    func databaseFacts(_ database: String) throws -> String {
        try ctx.cluster.psql("""
            SELECT pg_get_userbyid(d.datdba) || ' | ' || coalesce(d.datacl::text, 'default') || ' | '
              || pg_encoding_to_char(d.encoding) || ' ' || d.datcollate || ' ' || d.datctype || ' | '
              || d.datconnlimit || ' | ' || coalesce(shobj_description(d.oid, 'pg_database'), 'no comment') || ' | '
              || coalesce((SELECT string_agg(coalesce(pg_get_userbyid(nullif(s.setrole, 0)), '*') || ':'
                           || array_to_string(s.setconfig, ','), ' ' ORDER BY s.setrole)
                           FROM pg_db_role_setting s WHERE s.setdatabase = d.oid), 'no settings')
            FROM pg_database d WHERE d.datname = '\(database)'
            """)
    }

    /// pgbackup's swap databases of `target` (`<target>_new_*` or `_before_*`), by name.
    func swapDatabases(_ target: String, _ kind: String) throws -> [String] {
        try ctx.cluster.psql("SELECT datname FROM pg_database WHERE datname LIKE '\(target)\\_\(kind)\\_%' ORDER BY 1")
            .split(separator: "\n").map(String.init)
    }

    func canary(_ database: String) throws -> String {
        try ctx.cluster.psql("SELECT value FROM canary WHERE id = 1", database: database)
    }

    func swap(_ backup: String, _ database: String, _ extra: [String] = [], env: [String: String] = [:]) throws -> ProcessResult {
        try ctx.pgbackup(["restore", backup, "--swap", "--yes", "--json"] + extra, database: database, env: env,
                         timeout: .seconds(600))
    }

    @Test func aSwapRoundTripKeepsOwnerSettingsGrantsAndCommentAndRollbackGoesBothWays() throws {
        let database = try ctx.sampleDatabase("swap")
        let role = CLITestContext.uniqueName("swaprole")
        try ctx.cluster.psql("""
            CREATE ROLE \(role) LOGIN;
            ALTER DATABASE \(database) OWNER TO \(role);
            ALTER DATABASE \(database) SET work_mem = '7MB';
            ALTER DATABASE \(database) SET search_path = public, "$user";
            ALTER ROLE \(role) IN DATABASE \(database) SET statement_timeout = '5s';
            ALTER DATABASE \(database) CONNECTION LIMIT 50;
            REVOKE ALL ON DATABASE \(database) FROM PUBLIC;
            GRANT CONNECT ON DATABASE \(database) TO \(role);
            COMMENT ON DATABASE \(database) IS 'the shop''s data';
            """)
        let facts = try databaseFacts(database)
        let backup = try ctx.create(database, description: "before the change")
        let dumpBackedUp = try ctx.cluster.normalisedDump(database)
        try ctx.cluster.psql("UPDATE canary SET value = 'changed'; DELETE FROM notes WHERE id > 2", database: database)
        let dumpChanged = try ctx.cluster.normalisedDump(database)

        let result = try swap(backup, database)
        #expect(result.status == 0, "\(result)")
        let answer = try result.jsonObject()
        #expect(answer["mode"] as? String == "swap", "\(answer)")
        let previous = try #require(answer["previous_database"] as? String, "\(answer)")
        #expect(previous.hasPrefix(database + "_before_"), "\(previous)")
        let seconds = try #require(JSON.double(answer["swap_seconds"]), "\(answer)")
        #expect(seconds >= 0 && seconds <= 1, "the swap took \(seconds) s")
        #expect(answer["safety_backup"] is NSNull, "no safety backup with --swap: \(answer)")
        #expect(ctx.dumpFiles() == [backup])

        DumpComparison.expectEqual(dumpBackedUp, try ctx.cluster.normalisedDump(database), "the target after the swap")
        #expect(try canary(database) == SampleSchema.canaryValue)
        let swappedFacts = try databaseFacts(database)
        #expect(swappedFacts == facts, "owner, grants, settings, comment survive the swap: \(swappedFacts) vs \(facts)")
        DumpComparison.expectEqual(dumpChanged, try ctx.cluster.normalisedDump(previous), "the previous database")
        #expect(try swapDatabases(database, "new").isEmpty, "no new database left")
        let status = try ctx.status(database)
        let kept = try #require(status["previous_databases"] as? [[String: Any]], "\(status)")
        #expect(kept.map { $0["name"] as? String } == [previous] && kept.first?["replaced_by"] as? String == backup, "\(kept)")
        let text = try ctx.pgbackup(["status"], database: database)
        #expect(text.out.contains("Previous database:  \(previous)"), "\(text.out)")

        // rollback brings the changed data back; the restored one is kept in turn, so rollback again re-applies it.
        let back = try ctx.pgbackup(["rollback", "--yes", "--json"], database: database)
        #expect(back.status == 0, "\(back)")
        let backAnswer = try back.jsonObject()
        #expect(backAnswer["restored_database"] as? String == previous, "\(backAnswer)")
        DumpComparison.expectEqual(dumpChanged, try ctx.cluster.normalisedDump(database), "the target after rollback")
        #expect(try databaseFacts(database) == facts, "owner, grants, settings, comment survive the rollback")
        let again = try ctx.pgbackup(["rollback", "--yes", "--json"], database: database)
        #expect(again.status == 0, "\(again)")
        DumpComparison.expectEqual(dumpBackedUp, try ctx.cluster.normalisedDump(database), "after the second rollback")
        #expect(try swapDatabases(database, "before").count == 1, "BACKUP_KEEP_PREVIOUS_DATABASES=1 keeps one")
        #expect(try databaseFacts(database) == facts)
    }

    @Test func keepPreviousIsHonouredAndZeroKeepsNoneSoRollbackIsRefused() throws {
        let database = try ctx.sampleDatabase("keep")
        let backup = try ctx.create(database, description: "keep")
        for _ in 0..<3 {
            let result = try swap(backup, database, env: ["BACKUP_KEEP_PREVIOUS_DATABASES": "2"])
            #expect(result.status == 0, "\(result)")
            sleep(1)
        }
        #expect(try swapDatabases(database, "before").count == 2)
        // Asked for, the safety backup is taken with --swap too.
        let safe = try swap(backup, database, ["--safety-backup"], env: ["BACKUP_KEEP_PREVIOUS_DATABASES": "2"])
        #expect(safe.status == 0, "\(safe)")
        #expect((try safe.jsonObject()["safety_backup"] as? [String: Any])?["filename"] is String, "\(safe)")
        #expect(ctx.dumpFiles().count == 2)
        #expect(try swapDatabases(database, "before").count == 2)
        // A target that does not exist is refused, saying why.
        let missing = try swap(backup, database, ["--target-db", "no_such_db_here"])
        #expect(missing.status == 2, "\(missing)")
        #expect((try missing.jsonObject()["detail"] as? String ?? "").contains("the target must exist"), "\(missing)")
        let none = try swap(backup, database, env: ["BACKUP_KEEP_PREVIOUS_DATABASES": "0"])
        #expect(none.status == 0, "\(none)")
        #expect(try none.jsonObject()["previous_database"] is NSNull, "\(none)")
        #expect(try swapDatabases(database, "before").isEmpty)
        #expect(try ctx.status(database)["previous_databases"] as? [Any] != nil)
        let refused = try ctx.pgbackup(["rollback", "--yes"], database: database)
        #expect(refused.status == 2 && refused.err.contains("no previous database of '\(database)' is kept"), "\(refused)")
        #expect(try canary(database) == SampleSchema.canaryValue)
    }

    @Test func anotherSessionIsRefusedByNameThenEndedWithTerminateConnections() throws {
        let database = try ctx.sampleDatabase("busy")
        let backup = try ctx.create(database, description: "busy")
        try ctx.cluster.psql("UPDATE canary SET value = 'changed'", database: database)
        let app = try ApplicationSession(cluster: ctx.cluster, database: database, in: ctx.scratch.url)
        defer { app.close() }
        let pid = try app.run("SELECT 1;", until: "idle")

        let refused = try swap(backup, database)
        #expect(refused.status == 1, "\(refused)")
        let answer = try refused.jsonObject()
        #expect(answer["error"] as? String == "database_in_use", "\(answer)")
        #expect((answer["detail"] as? String ?? "").contains(app.applicationName), "\(answer)")
        #expect(try canary(database) == "changed", "the target is untouched")
        #expect(try swapDatabases(database, "new").isEmpty, "the new database was dropped")
        #expect(try swapDatabases(database, "before").isEmpty)

        let ended = try swap(backup, database, ["--terminate-connections"])
        #expect(ended.status == 0, "\(ended)")
        let sessions = try ended.jsonObject()["terminated_sessions"] as? [[String: Any]] ?? []
        #expect(sessions.contains { String(describing: $0["pid"] ?? "") == pid }, "\(sessions)")
        #expect(try canary(database) == SampleSchema.canaryValue)
    }

    @Test func aFailingCheckDropsTheNewDatabaseAndLeftoversOfKilledSwapsGo() throws {
        let database = try ctx.sampleDatabase("check")
        let backup = try ctx.create(database, description: "check")
        try ctx.cluster.psql("UPDATE canary SET value = 'changed'", database: database)
        let dumpBefore = try ctx.cluster.normalisedDump(database)
        // The sidecar's row counts disagree with the dump (the sha256 covers the dump only).
        var sidecar = try ctx.sidecar(backup)
        var tables = try #require(sidecar["tables"] as? [String: Any])
        tables["public.canary"] = 99
        sidecar["tables"] = tables
        try JSON.write(sidecar, to: ctx.sidecarURL(backup))

        // A leftover of a killed swap (pgbackup's marker) and a look-alike without it.
        let leftover = database + "_new_20200101_000000"
        let lookalike = database + "_new_20200101_000001"
        let marker = #"{"at":"20200101_000000","backup":"x","original_comment":null,"pgbackup":"pgbackup-swap","target":"\#(database)"}"#
        try ctx.cluster.psql("CREATE DATABASE \(leftover)")
        try ctx.cluster.psql("COMMENT ON DATABASE \(leftover) IS '\(marker)'")
        try ctx.cluster.psql("CREATE DATABASE \(lookalike)")

        let failed = try swap(backup, database)
        #expect(failed.status == 1, "\(failed)")
        let detail = try failed.jsonObject()["detail"] as? String ?? ""
        #expect(detail.contains("public.canary expected 99, found 1"), "\(detail)")
        DumpComparison.expectEqual(dumpBefore, try ctx.cluster.normalisedDump(database), "the target after the failed check")
        #expect(try swapDatabases(database, "new") == [lookalike], "ours dropped, the look-alike kept")
        #expect(try swapDatabases(database, "before").isEmpty)
        let status = try ctx.status(database)
        #expect((status["last_failure"] as? [String: Any])?["operation"] as? String == "restore", "\(status)")
    }

    @Test func theFourThousandTableDatabaseRestoresWithSwapOnDefaultSettings() throws {
        let database = try ctx.emptyDatabase("manyswap")
        try ManyTables.load(into: database, on: ctx.cluster)
        let backup = try ctx.create(database, description: "4000 tables")
        let dumpBefore = try ctx.cluster.normalisedDump(database)
        try ctx.cluster.psql("DROP TABLE t17; INSERT INTO t100 DEFAULT VALUES", database: database)

        let plain = try ctx.pgbackup(["restore", backup, "--yes", "--json"], database: database)
        let plainDetail = try plain.jsonObject()["detail"] as? String ?? ""
        #expect(plain.status == 1 && plainDetail.contains("--swap"), "\(plain)")
        let result = try swap(backup, database)
        #expect(result.status == 0, "\(result)")
        DumpComparison.expectEqual(dumpBefore, try ctx.cluster.normalisedDump(database), "4000 tables swapped in")
        #expect(try ManyTables.census(database, on: ctx.cluster) == "4000 tables, 40 rows")
        let seconds = JSON.double(try result.jsonObject()["swap_seconds"]) ?? 99
        let total = JSON.double(try result.jsonObject()["duration_seconds"]) ?? 0
        print("restore --swap of 4000 tables: \(total) s in all, the swap \(seconds) s")
        #expect(seconds <= 1, "the swap took \(seconds) s")
    }
}
