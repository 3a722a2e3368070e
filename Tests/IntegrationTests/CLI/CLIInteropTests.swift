import Foundation
import TestSupport
import Testing

/// Our backups are plain gzip of plain SQL, usable without our tool; the old tool's backups work with it.
@Suite("CLI: interoperability with gzip, psql and the old tool's backups", .serialized, .postgresCluster)
final class CLIInteropTests {
    let ctx: CLITestContext

    init() throws { ctx = try CLITestContext() }
    deinit { ctx.remove() }

    @Test func everyBackupPassesGunzipAndRestoresWithGunzipAndPsqlAlone() throws {
        let db = try ctx.sampleDatabase("plain")
        let dumpAtBackup = try ctx.cluster.normalisedDump(db)
        let first = try ctx.create(db, description: "first")
        try ctx.cluster.psql("UPDATE canary SET value = 'second state'", database: db)
        _ = try ctx.create(db, description: "second", env: ["BACKUP_COMPRESSION_LEVEL": "1"])
        let restore = try ctx.pgbackup(["restore", first, "--yes"], database: db)  // adds a pre-restore backup
        try #require(restore.status == 0, "\(restore)")

        let files = ctx.dumpFiles()
        #expect(files.count == 3)
        for file in files {
            let test = try BackupFiles.gunzipTest(ctx.backupURL(file))
            #expect(test.status == 0, "gunzip -t \(file): \(test)")
        }

        // `gunzip -c FILE | psql` into a fresh database, no pgbackup involved.
        let fresh = try ctx.emptyDatabase("plain_fresh")
        let script = try BackupFiles.gunzip(ctx.backupURL(first))
        let psql = try ctx.cluster.psqlScript(script, database: fresh)
        try #require(psql.status == 0, "\(psql)")
        DumpComparison.expectEqual(dumpAtBackup, try ctx.cluster.normalisedDump(fresh), "gunzip | psql restore")
    }

    @Test func oldToolBackupIsListedUnverifiedVerifiedByCRCAndRestored() throws {
        let source = try ctx.sampleDatabase("oldtool")
        let sourceDump = try ctx.cluster.normalisedDump(source)
        let oldName = try BackupFiles.writeOldToolBackup(
            dump: Data(try ctx.cluster.dump(source).utf8), database: source, timestamp: "20260129_120000",
            createdAt: "2026-01-29T12:00:00.123456", description: "Made by the old tool", in: ctx.backupDir)
        let ours = try ctx.create(source, description: "made by pgbackup")

        let listing = try ctx.list(source)
        #expect(listing.compactMap { $0["filename"] as? String } == [ours, oldName])
        let oldEntry = try #require(listing.last)
        #expect(oldEntry["verified"] as? Bool == false)
        #expect(oldEntry["description"] as? String == "Made by the old tool")
        #expect(JSON.int(oldEntry["size_bytes"]) == (try FileTools.size(ctx.backupURL(oldName))))
        #expect((oldEntry["created_at"] as? String)?.hasPrefix("2026-01-29T12:00:00.123456") == true)
        #expect(oldEntry["sha256"] == nil || oldEntry["sha256"] is NSNull)
        #expect(listing.first?["verified"] as? Bool == true)

        let verify = try ctx.pgbackup(["verify", oldName, "--json"], database: source)
        try #require(verify.status == 0, "\(verify)")
        let report = try JSON.object(verify.stdout)
        #expect(report["checks"] as? [String] == ["gzip_crc", "dump_trailer"])
        #expect((report["note"] as? String)?.contains("no checksum") == true)

        let target = try ctx.emptyDatabase("oldtool_target")
        let restore = try ctx.pgbackup(["restore", oldName, "--target-db", target, "--yes", "--no-safety-backup"], database: source)
        try #require(restore.status == 0, "\(restore)")
        DumpComparison.expectEqual(sourceDump, try ctx.cluster.normalisedDump(target), "old-tool backup restored")
    }
}
