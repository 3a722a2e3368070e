import Foundation
import Testing

/// delete removes exactly one backup; cleanup applies retention from the sidecars and spares orphans.
@Suite("CLI: delete and cleanup", .serialized, .postgresCluster)
final class CLIDeleteCleanupTests {
    let ctx: CLITestContext

    init() throws { ctx = try CLITestContext() }
    deinit { ctx.remove() }

    @Test func deleteRemovesTheDumpAndItsSidecarAndNothingElse() throws {
        let db = try ctx.sampleDatabase("delete")
        let doomed = try ctx.create(db, description: "doomed")
        let kept = try ctx.create(db, description: "kept")

        let result = try ctx.pgbackup(["delete", doomed, "--yes", "--json"], database: db)
        try #require(result.status == 0, "\(result)")
        #expect(try JSON.object(result.stdout)["success"] as? Bool == true)
        #expect(!FileManager.default.fileExists(atPath: ctx.backupURL(doomed).path))
        #expect(!FileManager.default.fileExists(atPath: ctx.sidecarURL(doomed).path))
        #expect(ctx.dumpFiles() == [kept])
        #expect(FileManager.default.fileExists(atPath: ctx.sidecarURL(kept).path))
        #expect(try ctx.list(db).compactMap { $0["filename"] as? String } == [kept])

        let again = try ctx.pgbackup(["delete", doomed, "--yes", "--json"], database: db)
        #expect(again.status == 2, "\(again)")
        #expect(try JSON.object(again.stdout)["error"] as? String == "not_found")
        #expect(again.err.contains(doomed))
    }

    @Test func cleanupDryRunNamesWhatCleanupThenDeletes() throws {
        let db = try ctx.sampleDatabase("cleanup")
        let thirtyDays = try ctx.create(db, description: "30 days")
        let twentyDays = try ctx.create(db, description: "20 days")
        let tenDays = try ctx.create(db, description: "10 days")
        let fresh = try ctx.create(db, description: "fresh")
        try ctx.ageBackup(thirtyDays, days: 30)
        try ctx.ageBackup(twentyDays, days: 20)
        try ctx.ageBackup(tenDays, days: 10)
        // An old dump without a sidecar: someone's only copy, perhaps; never deleted automatically.
        let orphan = "backup_\(db)_20200101_000000.sql.gz"
        try Data(try Data(contentsOf: ctx.backupURL(fresh))).write(to: ctx.backupURL(orphan))
        let retention = ["BACKUP_RETENTION_DAYS": "7", "BACKUP_MAX_COUNT": "2"]
        let expectedDeleted: Set = [thirtyDays, twentyDays]
        let before = ctx.directorySnapshot()

        let dryRun = try ctx.pgbackup(["cleanup", "--dry-run", "--json"], database: db, env: retention)
        try #require(dryRun.status == 0, "\(dryRun)")
        let preview = try JSON.object(dryRun.stdout)
        #expect(Set(preview["deleted"] as? [String] ?? []) == expectedDeleted)
        #expect(JSON.int(preview["kept"]) == 2)
        #expect(ctx.directorySnapshot() == before, "a dry run changes nothing")
        let humanDryRun = try ctx.pgbackup(["cleanup", "--dry-run"], database: db, env: retention)
        #expect(humanDryRun.status == 0)
        #expect(expectedDeleted.allSatisfy { humanDryRun.out.contains($0) })
        #expect(ctx.directorySnapshot() == before)

        let cleanup = try ctx.pgbackup(["cleanup", "--json"], database: db, env: retention)
        try #require(cleanup.status == 0, "\(cleanup)")
        #expect(Set(try JSON.object(cleanup.stdout)["deleted"] as? [String] ?? []) == expectedDeleted)
        #expect(ctx.dumpFiles() == [orphan, tenDays, fresh].sorted())
        for name in expectedDeleted {
            #expect(!FileManager.default.fileExists(atPath: ctx.sidecarURL(name).path))
        }
        #expect(try ctx.list(db).compactMap { $0["filename"] as? String } == [fresh, tenDays])
        let status = try ctx.status(db, env: retention)
        #expect(status["orphans"] as? [String] == [orphan])
        let humanList = try ctx.pgbackup(["list"], database: db)
        #expect(humanList.out.contains(orphan), "list must show the orphan for a person to decide")

        // Nothing more to delete: the second run is a no-op.
        let second = try ctx.pgbackup(["cleanup", "--json"], database: db, env: retention)
        #expect((try JSON.object(second.stdout)["deleted"] as? [String]) == [])
    }

    @Test func createAppliesRetentionButNeverDeletesTheNewestBackup() throws {
        let db = try ctx.sampleDatabase("autoclean")
        let old = try ctx.create(db, description: "old")
        try ctx.ageBackup(old, days: 40)
        let newest = try ctx.create(db, description: "newest", env: ["BACKUP_RETENTION_DAYS": "1", "BACKUP_MAX_COUNT": "1"])
        #expect(ctx.dumpFiles() == [newest])
        // All backups beyond every limit: cleanup still keeps the newest one.
        try ctx.ageBackup(newest, days: 400)
        let cleanup = try ctx.pgbackup(["cleanup", "--json"], database: db, env: ["BACKUP_RETENTION_DAYS": "1", "BACKUP_MAX_COUNT": "1"])
        #expect(cleanup.status == 0)
        #expect(ctx.dumpFiles() == [newest])
    }
}
