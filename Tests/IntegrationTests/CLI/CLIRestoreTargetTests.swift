import Foundation
import Testing

/// A restore never picks its target silently (issue 18 item 2), and never starts on a server too old for the
/// dump (item 12).
@Suite("CLI: restore target and dump version", .serialized, .postgresCluster)
final class CLIRestoreTargetTests {
    let ctx: CLITestContext

    init() throws { ctx = try CLITestContext() }
    deinit { ctx.remove() }

    @Test func aBackupOfAnotherDatabaseIsRefusedWithoutTargetDbEvenWithYes() throws {
        let staging = try ctx.sampleDatabase("staging")
        let production = try ctx.sampleDatabase("production")
        let backup = try ctx.create(staging, description: "of staging")
        try ctx.cluster.psql("UPDATE canary SET value = 'production data'", database: production)
        let dumpBefore = try ctx.cluster.normalisedDump(production)

        // POSTGRES_DB is production: the backup of staging must not land there by default.
        let yes = try ctx.pgbackup(["restore", backup, "--yes"], database: production)
        #expect(yes.status == 2, "\(yes)")
        for name in ["'\(staging)'", "'\(production)'", "--target-db \(production)"] {
            #expect(yes.err.contains(name), "\(name): \(yes.err)")
        }
        let json = try ctx.pgbackup(["restore", backup, "--yes", "--no-safety-backup", "--json"], database: production)
        #expect(json.status == 2, "\(json)")
        #expect(try json.jsonObject()["error"] as? String == "target_database_required")
        // On a terminal it refuses before asking.
        let asked = try ctx.onTerminal(["restore", backup], database: production, answer: "yes")
        #expect(asked.status == 2, "\(asked)")
        #expect(!asked.out.contains("Type 'yes' to continue"), "\(asked.out)")
        #expect(asked.out.contains(staging), "\(asked.out)")

        DumpComparison.expectEqual(dumpBefore, try ctx.cluster.normalisedDump(production), "production after the refusals")
        #expect(ctx.dumpFiles() == [backup], "no safety backup was taken")
        let status = try ctx.status(production)
        #expect(status["last_failure"] == nil || status["last_failure"] is NSNull, "a refused request is not a failure")
    }

    @Test func withTheTargetNamedThePromptSaysTheBackupIsOfAnotherDatabaseAndItGoesAhead() throws {
        let staging = try ctx.sampleDatabase("staging")
        // Empty, so that after the restore it must equal staging's backup exactly (a `--clean` restore leaves
        // objects the dump does not know, such as another database's own large objects).
        let production = try ctx.emptyDatabase("production")
        let backup = try ctx.create(staging, description: "of staging")
        let stagingDump = try ctx.cluster.normalisedDump(staging)
        let tables = "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"

        let declined = try ctx.onTerminal(["restore", backup, "--target-db", production, "--no-safety-backup"],
                                      database: production, answer: "no")
        #expect(declined.status == 1, "\(declined)")
        #expect(declined.out.contains("Target database: \(production)"), "\(declined.out)")
        #expect(declined.out.contains("This backup is of ANOTHER database, '\(staging)'"), "\(declined.out)")
        #expect(try ctx.cluster.psql(tables, database: production) == "0", "declined, yet the database changed")

        let accepted = try ctx.onTerminal(["restore", backup, "--target-db", production, "--no-safety-backup"],
                                      database: production, answer: "yes")
        #expect(accepted.status == 0, "\(accepted)")
        DumpComparison.expectEqual(stagingDump, try ctx.cluster.normalisedDump(production), "production = staging's backup")

        try ctx.cluster.psql("UPDATE canary SET value = 'production data'", database: production)
        let yes = try ctx.pgbackup(["restore", backup, "--target-db", production, "--yes", "--json"], database: production)
        #expect(yes.status == 0, "\(yes)")
        #expect(try yes.jsonObject()["target_database"] as? String == production)
        #expect(try ctx.cluster.psql("SELECT value FROM canary", database: production) == SampleSchema.canaryValue)

        // A backup of the target itself: no warning about another database.
        let own = try ctx.create(production, description: "of production")
        let same = try ctx.onTerminal(["restore", own, "--no-safety-backup"], database: production, answer: "yes")
        #expect(same.status == 0, "\(same)")
        #expect(!same.out.contains("ANOTHER"), "\(same.out)")
    }

    /// The old tool's own backups come from pg_dump 17.7; PostgreSQL 15 cannot run what it writes
    /// (`SET transaction_timeout`), and found out only mid-restore, after the safety backup.
    @Test func aDumpFromANewerPgDumpIsRefusedUpFrontNamingTheVersions() throws {
        let db = try ctx.sampleDatabase("newer")
        var dump = try ctx.cluster.dump(db)
        let lines = dump.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            if line.hasPrefix("-- Dumped from database version ") { return "-- Dumped from database version 17.7 (Debian 17.7-1.pgdg120+1)" }
            if line.hasPrefix("-- Dumped by pg_dump version ") { return "-- Dumped by pg_dump version 17.7 (Debian 17.7-1.pgdg120+1)" }
            if line == "SET lock_timeout = 0;" { return "SET lock_timeout = 0;\nSET transaction_timeout = 0;" }
            return String(line)
        }
        dump = lines.joined(separator: "\n")
        #expect(dump.contains("pg_dump version 17.7") && dump.contains("SET transaction_timeout = 0;"))
        // The old tool's sidecar: no sha256, no pg_dump_version — only the header can tell.
        let old = try BackupFiles.writeOldToolBackup(
            dump: Data(dump.utf8), database: db, timestamp: "20260129_120000", createdAt: "2026-01-29T12:00:00.123456",
            description: "Made by the old tool with pg_dump 17.7", in: ctx.backupDir)
        try ctx.cluster.psql("UPDATE canary SET value = 'kept'", database: db)
        let dumpBefore = try ctx.cluster.normalisedDump(db)
        let server = try ctx.cluster.psql("SHOW server_version", database: db).split(separator: " ").first.map(String.init) ?? "?"

        let result = try ctx.pgbackup(["restore", old, "--yes"], database: db)
        #expect(result.status == 1, "\(result)")
        for expected in ["pg_dump 17.7", "PostgreSQL 17.7 server", "PostgreSQL \(server)", "'\(db)'"] {
            #expect(result.err.contains(expected), "\(expected): \(result.err)")
        }
        #expect(!result.err.contains("unrecognized configuration parameter"), "psql must never have seen it: \(result.err)")
        let json = try ctx.pgbackup(["restore", old, "--yes", "--json"], database: db)
        #expect(json.status == 1)
        #expect(try json.jsonObject()["error"] as? String == "incompatible_backup")

        #expect(ctx.dumpFiles() == [old], "no safety backup may be taken for a restore that cannot work")
        DumpComparison.expectEqual(dumpBefore, try ctx.cluster.normalisedDump(db), "database after the refusal")
        #expect(try ctx.cluster.psql("SELECT value FROM canary", database: db) == "kept")
    }
}
