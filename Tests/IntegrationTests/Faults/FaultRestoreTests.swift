import Foundation
import Testing

extension FaultSuite {
    /// Invariant 5 without kills: after a restore the database equals the backup, and a restore that fails part-way
    /// leaves it exactly as it was.
    @Suite("restore: equal to the backup or unchanged", .serialized, .postgresCluster)
    final class RestoreOutcomeTests {
        let ctx: CLITestContext

        init() throws { ctx = try CLITestContext() }
        deinit { ctx.remove() }

        /// Everything the backup holds comes back exactly; objects created after the backup are left in place
        /// (`pg_dump --clean` drops only what the dump knows — the documented behaviour, issue 2), except what
        /// was attached to a dumped table: that goes with the table (issue 19 item 9).
        @Test func restoreOverADatabaseThatChangedSinceTheBackupBringsBackEverythingTheBackupHolds() throws {
            let db = try ctx.sampleCopy("drift")
            let backup = try ctx.create(db, description: "state to go back to")
            let atBackup = try ctx.cluster.normalisedDump(db)
            // What an application does after a backup: new rows, new objects, a new large object, a deleted row.
            let lateObject = try ctx.cluster.psql(
                """
                INSERT INTO customers (name, email) VALUES ('late customer', 'late@example.test');
                DELETE FROM canary;
                CREATE TABLE created_after_backup (id int PRIMARY KEY, note text);
                INSERT INTO created_after_backup VALUES (1, 'left in place, as documented');
                CREATE INDEX late_index_on_new_table ON created_after_backup (note);
                CREATE INDEX late_index_on_dumped_table ON customers (name, email);
                CREATE SCHEMA reporting;
                CREATE TABLE reporting.summary (n int);
                SELECT lo_from_bytea(0, '\\xdeadbeef'::bytea);
                """, database: db).split(separator: "\n").last.map(String.init) ?? ""
            let invariants = ctx.invariants(db)
            let before = try invariants.check()

            let result = try ctx.pgbackup(["restore", backup, "--yes"], database: db)
            #expect(result.status == 0, "\(result)")
            #expect(try ctx.cluster.psql("SELECT note FROM created_after_backup", database: db) == "left in place, as documented")
            // README, "Operations and their safety rules": an index added to a dumped table is dropped with its table;
            // a table the dump does not know survives with its index.
            let indexes = try ctx.cluster.psql(
                "SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE indexname LIKE 'late_index_%'",
                database: db)
            #expect(indexes == "late_index_on_new_table", "indexes made after the backup, after the restore: \(indexes)")
            // With the later objects removed by hand, the database is exactly the backup.
            try ctx.cluster.psql(
                "DROP TABLE created_after_backup; DROP SCHEMA reporting CASCADE; SELECT lo_unlink(\(lateObject));",
                database: db)
            DumpComparison.expectEqual(atBackup, try ctx.cluster.normalisedDump(db),
                                       "every object of \(backup) is back exactly as it was backed up")
            try invariants.check(unchanged: before)
        }

        @Test func restoreThatFailsInsidePsqlLeavesTheDatabaseUnchangedAndSaysWhy() throws {
            let db = try ctx.sampleCopy("psqlfail")
            let backup = try ctx.create(db, description: "the backup")
            // A view made after the backup depends on a table the dump drops and recreates: psql stops with an error
            // in the middle of the script, after the dump's first DROP statements already ran.
            try ctx.cluster.psql("CREATE VIEW late_view AS SELECT id FROM orders; UPDATE canary SET value = 'kept'",
                                 database: db)
            let dumpBefore = try ctx.cluster.normalisedDump(db)
            let invariants = ctx.invariants(db)
            let before = try invariants.check()

            let result = try ctx.pgbackup(["restore", backup, "--yes", "--no-safety-backup"], database: db)
            #expect(result.status == 1, "\(result)")
            #expect(result.err.contains("depend"), "psql's own error must be shown: \(result.err)")
            #expect(result.err.contains("left unchanged"), "\(result.err)")
            DumpComparison.expectEqual(dumpBefore, try ctx.cluster.normalisedDump(db), "database after a failed restore")
            let failure = try ctx.status(db)["last_failure"] as? [String: Any]
            #expect(failure?["operation"] as? String == "restore")
            #expect((failure?["message"] as? String)?.contains("depend") == true)
            try invariants.check(unchanged: before)
        }
    }
}
