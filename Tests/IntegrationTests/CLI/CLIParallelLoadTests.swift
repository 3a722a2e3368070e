import Foundation
import TestSupport
import Testing

/// Drills load through `BACKUP_RESTORE_JOBS` psql sessions (issue 15's parallel load): with 1 and with 4 they bring
/// back the same tables with the same rows, a psql error in the middle of the data fails the drill cleanly on
/// every session, and the 4,000-table database drills on 4 sessions.
@Suite("CLI: parallel load", .serialized, .postgresCluster)
final class CLIParallelLoadTests {
    let ctx: CLITestContext
    let prefix = CLITestContext.uniqueName("pload")

    init() throws { ctx = try CLITestContext() }
    deinit { ctx.remove() }

    func drill(_ db: String, jobs: Int, _ arguments: [String] = []) throws -> ProcessResult {
        try ctx.pgbackup(["drill", "--json"] + arguments, database: db,
                         env: ["BACKUP_DRILL_DATABASE": prefix, "BACKUP_RESTORE_JOBS": "\(jobs)"], timeout: .seconds(600))
    }

    func scratchDatabases() throws -> [String] {
        try ctx.cluster.psql("SELECT datname FROM pg_database WHERE datname LIKE '\(prefix)%' ORDER BY 1")
            .split(separator: "\n").map(String.init)
    }

    @Test func oneAndFourSessionsBringBackTheSameRows() throws {
        let db = try ctx.sampleDatabase("pload")
        try ctx.cluster.psql(CLIDrillTests.extra + """
            CREATE TABLE bulk (id int PRIMARY KEY, a text);
            CREATE INDEX bulk_a ON bulk (a);
            INSERT INTO bulk SELECT g, md5(g::text) FROM generate_series(1, 200000) g;
            """, database: db)
        _ = try ctx.create(db)
        var expected = CLIDrillTests.expectedTables
        expected["public.bulk"] = 200_000
        for jobs in [1, 4] {
            let result = try drill(db, jobs: jobs)
            try #require(result.status == 0, "jobs \(jobs): \(result)")
            let answer = try JSON.object(result.stdout)
            #expect(answer["passed"] as? Bool == true && answer["compared"] as? Bool == true, "jobs \(jobs)")
            let found = try #require(answer["tables"] as? [String: Any])
            #expect(found.mapValues { JSON.int($0) ?? -1 } == expected, "jobs \(jobs)")
            #expect(try scratchDatabases().isEmpty)
        }
    }

    @Test func aPsqlErrorMidDataFailsTheDrillAndLeavesNoSession() throws {
        let db = try ctx.emptyDatabase("pbroken")
        // The check's function is replaced after the rows went in: the dump restores the new one first, so the
        // COPY of row 150,000 fails half-way through the data, on one of the sessions.
        try ctx.cluster.psql("""
            CREATE FUNCTION ok(v int) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT true';
            CREATE TABLE early (id int, a text);
            INSERT INTO early SELECT g, md5(g::text) FROM generate_series(1, 200000) g;
            CREATE TABLE guarded (v int CHECK (ok(v)));
            INSERT INTO guarded SELECT generate_series(1, 300000);
            CREATE TABLE late (id int, a text);
            INSERT INTO late SELECT g, md5(g::text) FROM generate_series(1, 200000) g;
            CREATE OR REPLACE FUNCTION ok(v int) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS
              $$ BEGIN IF v = 150000 THEN RAISE EXCEPTION 'row % refused', v; END IF; RETURN true; END $$;
            """, database: db)
        _ = try ctx.create(db)
        let result = try drill(db, jobs: 4)
        #expect(result.status == 4, "\(result)")
        #expect(result.err.contains("row 150000 refused"), "psql's own message: \(result)")
        let answer = try JSON.object(result.stdout)
        let record = try #require(answer["drill"] as? [String: Any])
        #expect(record["passed"] as? Bool == false)
        #expect(try scratchDatabases().isEmpty, "the scratch database was dropped")
        let sessions = try ctx.cluster.psql("SELECT count(*) FROM pg_stat_activity WHERE datname LIKE '\(prefix)%'")
        #expect(sessions == "0", "no session of the load is left")
    }

    @Test func fourThousandTablesDrillOnFourSessions() throws {
        let db = try ctx.emptyDatabase("pmany")
        try ManyTables.load(into: db, on: ctx.cluster)
        _ = try ctx.create(db)
        let result = try drill(db, jobs: 4)
        try #require(result.status == 0, "\(result)")
        let answer = try JSON.object(result.stdout)
        #expect(answer["passed"] as? Bool == true && answer["compared"] as? Bool == true, "\(result)")
        let found = try #require(answer["tables"] as? [String: Any])
        #expect(found.count == ManyTables.defaultCount)
        #expect(found.values.compactMap { JSON.int($0) }.reduce(0, +) == ManyTables.defaultCount / 100)
        #expect(try scratchDatabases().isEmpty)
    }
}
