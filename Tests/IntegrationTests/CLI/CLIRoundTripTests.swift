import Foundation
import TestSupport
import Testing

/// Backups restore to exactly the data they were taken from, in one transaction, large objects included.
@Suite("CLI: backup and restore round trips", .serialized, .postgresCluster)
final class CLIRoundTripTests {
    let ctx: CLITestContext

    init() throws { ctx = try CLITestContext() }
    deinit { ctx.remove() }

    /// Changes of every kind a restore must undo (no new objects: a `--clean` dump only drops what it holds).
    static let changes = #"""
        UPDATE canary SET value = 'changed after the backup';
        DELETE FROM orders WHERE id % 2 = 0;
        DROP TABLE documents;
        INSERT INTO customers (name, email)
            SELECT 'late ' || g, 'late' || g || '@example.test' FROM generate_series(1, 250) g;
        SELECT lo_put(blob, 0, '\x4242'::bytea) FROM attachments;
        SELECT setval('invoice_number_seq', 9999);
        """#

    @Test func restoreUndoesEveryChangeMadeAfterTheBackup() throws {
        let db = try ctx.sampleDatabase("roundtrip")
        let dumpBefore = try ctx.cluster.normalisedDump(db)
        let factsBefore = try DatabaseFacts.read(db, on: ctx.cluster)
        #expect(factsBefore.rowCounts == SampleSchema.rowCounts)

        let name = try ctx.create(db, description: "before changes")
        #expect(try FileTools.permissions(ctx.backupDir) == 0o700)
        #expect(try FileTools.permissions(ctx.backupURL(name)) == 0o600)
        #expect(try FileTools.permissions(ctx.sidecarURL(name)) == 0o600)
        #expect(try BackupFiles.gunzipTest(ctx.backupURL(name)).status == 0)

        try ctx.cluster.psql(Self.changes, database: db)
        let changed = try DatabaseFacts.read(db, on: ctx.cluster)
        #expect(changed.canary == "changed after the backup")
        #expect(changed.rowCounts["documents"] == nil)
        #expect(changed.rowCounts["orders"] == 2_500)
        #expect(changed.rowCounts["customers"] == 3_250)
        #expect(changed.largeObjects != factsBefore.largeObjects)

        let restore = try ctx.pgbackup(["restore", name, "--yes", "--no-safety-backup", "--json"], database: db)
        try #require(restore.status == 0, "\(restore)")
        let answer = try JSON.object(restore.stdout)
        #expect(answer["success"] as? Bool == true)
        #expect(answer["target_database"] as? String == db)
        #expect(answer["safety_backup"] is NSNull)

        let factsAfter = try DatabaseFacts.read(db, on: ctx.cluster)
        #expect(factsAfter == factsBefore)
        #expect(factsAfter.canary == SampleSchema.canaryValue)
        #expect(factsAfter.largeObjects == [SampleSchema.largeObjectHex])
        DumpComparison.expectEqual(dumpBefore, try ctx.cluster.normalisedDump(db), "after restore vs before create")
        // --no-safety-backup: still exactly one backup.
        #expect(ctx.dumpFiles() == [name])
        // Whatever else pgbackup keeps there (lock, state, .partial) is private too.
        for entry in ctx.directorySnapshot() {
            let url = ctx.backupDir.appendingPathComponent(entry)
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory)
            #expect(try FileTools.permissions(url) == (isDirectory.boolValue ? 0o700 : 0o600), "\(entry)")
        }
    }

    @Test func safetyBackupHoldsTheStateThatTheRestoreReplaced() throws {
        let db = try ctx.sampleDatabase("safety")
        let original = try ctx.create(db, description: "original")
        try ctx.cluster.psql("UPDATE canary SET value = 'state before restore'", database: db)
        let dumpOfReplacedState = try ctx.cluster.normalisedDump(db)

        let restore = try ctx.pgbackup(["restore", original, "--yes", "--json"], database: db)
        try #require(restore.status == 0, "\(restore)")
        let safety = try #require(try JSON.object(restore.stdout)["safety_backup"] as? [String: Any])
        let safetyName = try #require(safety["filename"] as? String)
        #expect(safety["kind"] as? String == "pre-restore")
        #expect(try ctx.cluster.psql("SELECT value FROM canary", database: db) == SampleSchema.canaryValue)

        let listing = try ctx.list(db)
        #expect(listing.compactMap { $0["filename"] as? String } == [safetyName, original])
        #expect(listing.first?["kind"] as? String == "pre-restore")
        #expect(listing.last?["kind"] as? String == "manual")

        // Restoring the safety backup brings back exactly what the first restore replaced.
        let undo = try ctx.pgbackup(["restore", safetyName, "--yes", "--no-safety-backup"], database: db)
        try #require(undo.status == 0, "\(undo)")
        #expect(try ctx.cluster.psql("SELECT value FROM canary", database: db) == "state before restore")
        DumpComparison.expectEqual(dumpOfReplacedState, try ctx.cluster.normalisedDump(db), "after undoing the restore")
    }

    @Test func restoreIntoAnotherDatabaseEqualsTheSource() throws {
        let source = try ctx.sampleDatabase("source")
        let target = try ctx.emptyDatabase("target")
        let sourceDump = try ctx.cluster.normalisedDump(source)
        let name = try ctx.create(source)

        let restore = try ctx.pgbackup(["restore", name, "--target-db", target, "--yes", "--json"], database: source)
        try #require(restore.status == 0, "\(restore)")
        let answer = try JSON.object(restore.stdout)
        #expect(answer["target_database"] as? String == target)
        // The safety backup is of the target, not of POSTGRES_DB.
        let safety = try #require(answer["safety_backup"] as? [String: Any])
        #expect(safety["database"] as? String == target)
        #expect((safety["filename"] as? String)?.hasPrefix("backup_\(target)_") == true)

        DumpComparison.expectEqual(sourceDump, try ctx.cluster.normalisedDump(target), "target vs source")
        #expect(try DatabaseFacts.read(target, on: ctx.cluster) == DatabaseFacts.read(source, on: ctx.cluster))
        DumpComparison.expectEqual(sourceDump, try ctx.cluster.normalisedDump(source), "source after the restore")
    }

    @Test func databaseWithCaseDotsDashesAndDollarRoundTrips() throws {
        // PostgreSQL allows these; `$` is not allowed in backup names, so the name must be made safe.
        let db = CLITestContext.uniqueName("Pay$Roll-v1.2")
        try ctx.cluster.createDatabase(db)
        try SampleSchema.load(into: db, on: ctx.cluster)
        let dumpBefore = try ctx.cluster.normalisedDump(db)
        let result = try ctx.pgbackup(["create", "--json"], database: db)
        try #require(result.status == 0, "\(result)")
        let backup = try #require(try JSON.object(result.stdout)["backup"] as? [String: Any])
        let name = try #require(backup["filename"] as? String)
        #expect(BackupName.isValid(name), "\(name)")
        #expect(backup["database"] as? String == db)

        try ctx.cluster.psql(Self.changes, database: db)
        let restore = try ctx.pgbackup(["restore", name, "--yes", "--no-safety-backup"], database: db)
        try #require(restore.status == 0, "\(restore)")
        DumpComparison.expectEqual(dumpBefore, try ctx.cluster.normalisedDump(db), "after restore")
    }

    @Test func restoreIntoAMissingDatabaseFailsCleanly() throws {
        let source = try ctx.sampleDatabase("nomissing")
        let name = try ctx.create(source)
        let missing = CLITestContext.uniqueName("absent")
        let restore = try ctx.pgbackup(["restore", name, "--target-db", missing, "--yes", "--no-safety-backup"], database: source)
        // A target that does not exist is bad input (exit 2), caught before anything is written.
        #expect(restore.status == 2, "\(restore)")
        #expect(restore.err.contains("database \"\(missing)\" does not exist"))
        #expect(try ctx.cluster.psql("SELECT count(*) FROM pg_database WHERE datname = '\(missing)'") == "0")
    }

    /// A target whose state differs from the backup: same schema, other canary, other large-object bytes.
    private func divergedTarget(_ stem: String) throws -> (name: String, dump: String, facts: DatabaseFacts) {
        let target = try ctx.sampleDatabase(stem)
        try ctx.cluster.psql(
            #"""
            UPDATE canary SET value = 'target must keep this';
            SELECT lo_put(blob, 0, '\x5a5a5a'::bytea) FROM attachments;
            DELETE FROM event_log WHERE happened_at IS NULL;
            """#, database: target)
        return (target, try ctx.cluster.normalisedDump(target), try DatabaseFacts.read(target, on: ctx.cluster))
    }

    @Test func restoreFailingAfterTheLargeObjectSectionLeavesTheTargetUnchanged() throws {
        // pg_dump wraps large-object data in its own BEGIN/COMMIT. Restored naively inside an outer
        // transaction, that COMMIT commits everything before it; a failure later then leaves a half-restored
        // database. Here an event trigger in the target makes the post-data CREATE INDEX fail.
        let source = try ctx.sampleDatabase("lo_source")
        let name = try ctx.create(source)
        let plain = String(decoding: try BackupFiles.gunzip(ctx.backupURL(name)), as: UTF8.self)
        let blobCommit = try #require(plain.range(of: "lo_close(0);\n\nCOMMIT;") ?? plain.range(of: "lo_close(0);\nCOMMIT;"),
                                      "the backup has no large-object section wrapped in BEGIN/COMMIT")
        let createIndex = try #require(plain.range(of: "CREATE INDEX orders_placed_on_idx"))
        #expect(blobCommit.upperBound < createIndex.lowerBound, "the test needs the index after the blob section")

        let target = try divergedTarget("lo_target")
        try ctx.cluster.psql(
            """
            CREATE SCHEMA guard;
            CREATE FUNCTION guard.refuse_indexes() RETURNS event_trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'index creation refused by the test';
            END
            $$;
            CREATE EVENT TRIGGER refuse_indexes ON ddl_command_start WHEN TAG IN ('CREATE INDEX')
                EXECUTE FUNCTION guard.refuse_indexes();
            """, database: target.name)
        let targetDump = try ctx.cluster.normalisedDump(target.name)

        let restore = try ctx.pgbackup(
            ["restore", name, "--target-db", target.name, "--yes", "--no-safety-backup"], database: source)
        #expect(restore.status == 1, "\(restore)")
        #expect(restore.err.contains("index creation refused by the test"))
        let after = try DatabaseFacts.read(target.name, on: ctx.cluster)
        #expect(after == target.facts)
        #expect(after.canary == "target must keep this")
        DumpComparison.expectEqual(targetDump, try ctx.cluster.normalisedDump(target.name), "target after the failed restore")
    }

    @Test func backupWhoseScriptFailsAfterTheLargeObjectsLeavesTheTargetUnchanged() throws {
        // Same proof with the failure inside the backup itself: an old-tool backup (no checksum to
        // catch the edit) whose dump raises an error after the large-object section.
        let source = try ctx.sampleDatabase("lo_oldtool")
        var plain = try ctx.cluster.dump(source, extraArguments: ["--clean", "--if-exists"])
        let trailer = try #require(plain.range(of: "-- PostgreSQL database dump complete"))
        let lastBlob = try #require(plain.range(of: "lo_close(0);", options: .backwards))
        #expect(lastBlob.upperBound < trailer.lowerBound)
        plain.insert(contentsOf: "DO $$ BEGIN RAISE EXCEPTION 'injected failure after the large objects'; END $$;\n\n",
                     at: trailer.lowerBound)
        let name = try BackupFiles.writeOldToolBackup(
            dump: Data(plain.utf8), database: source, timestamp: "20260129_120000",
            createdAt: "2026-01-29T12:00:00.123456", description: "tampered", in: ctx.backupDir)
        let target = try divergedTarget("lo_oldtool_target")

        let restore = try ctx.pgbackup(
            ["restore", name, "--target-db", target.name, "--yes", "--no-safety-backup"], database: source)
        #expect(restore.status == 1, "\(restore)")
        #expect(restore.err.contains("injected failure after the large objects"))
        #expect(try DatabaseFacts.read(target.name, on: ctx.cluster) == target.facts)
        DumpComparison.expectEqual(target.dump, try ctx.cluster.normalisedDump(target.name), "target after the failed restore")
    }
}
