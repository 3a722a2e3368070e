import Foundation
import TestSupport
import Testing

/// A restore reads its file once: a recorded sha256 is checked first, decoding nothing, and refuses a damaged file
/// before the safety backup and before psql starts; the decode checks run while the dump streams into psql and stop
/// it before COMMIT; a backup without a sha256 (the old tool's) is still decoded in full before anything else.
@Suite("Faults: restore checks the sha256 first and decodes once", .serialized, .postgresCluster)
final class RestoreReadsOnceTests {
    let ctx: CLITestContext

    init() throws { ctx = try CLITestContext() }
    deinit { ctx.remove() }

    static let codecs: [[String: String]] = [[:], ["BACKUP_COMPRESSION": "zstd"]]

    /// Changes the database after the backup, so a restore that got through would show.
    func changeAfterBackup(_ db: String) throws -> String {
        try ctx.cluster.psql("UPDATE canary SET value = 'after the backup'; DELETE FROM orders WHERE id % 2 = 0;",
                             database: db)
        return try ctx.cluster.normalisedDump(db)
    }

    @Test(arguments: codecs)
    func aFlippedByteWithARecordedSHA256IsRefusedBeforePsqlStarts(_ env: [String: String]) throws {
        let db = try ctx.sampleDatabase("flipsha")
        let name = try ctx.create(db, env: env)
        try Corruption.flippedByte.apply(to: ctx.backupURL(name))
        let changed = try changeAfterBackup(db)

        let restore = try ctx.pgbackup(["restore", name, "--yes", "--json"], database: db, env: env)
        #expect(restore.status != 0, "\(restore)")
        // Only the check before psql compares the SHA-256: the pass into psql decodes without hashing again.
        #expect(restore.out.contains("SHA-256") || restore.err.contains("SHA-256"), "\(restore)")
        #expect(ctx.dumpFiles() == [name], "refused before the safety backup")
        DumpComparison.expectEqual(changed, try ctx.cluster.normalisedDump(db), "database after a refused restore")
    }

    @Test(arguments: codecs)
    func damageTheRecordedSHA256AgreesWithIsCaughtByTheDecodeChecksBeforeCommit(_ env: [String: String]) throws {
        let db = try ctx.sampleDatabase("flipcrc")
        let name = try ctx.create(db, env: env)
        try Corruption.flippedByte.apply(to: ctx.backupURL(name))
        var sidecar = try ctx.sidecar(name)
        sidecar["sha256"] = try BackupFiles.sha256(ctx.backupURL(name))
        try JSON.write(sidecar, to: ctx.sidecarURL(name))
        let changed = try changeAfterBackup(db)

        for safety in [["--no-safety-backup"], []] {
            let restore = try ctx.pgbackup(["restore", name, "--yes", "--json"] + safety, database: db, env: env)
            #expect(restore.status != 0, "\(restore)")
            #expect(!(restore.out + restore.err).contains("SHA-256"), "the sha256 matched; the codec caught it: \(restore)")
            DumpComparison.expectEqual(changed, try ctx.cluster.normalisedDump(db), "database after a failed restore \(safety)")
        }
    }

    @Test func anOldToolBackupWithDamageIsRefusedByTheFullPrePass() throws {
        let db = try ctx.sampleDatabase("oldflip")
        let name = try BackupFiles.writeOldToolBackup(
            dump: Data(try ctx.cluster.dump(db).utf8), database: db, timestamp: "20260129_120000",
            createdAt: "2026-01-29T12:00:00.123456", description: "old tool", in: ctx.backupDir)
        try Corruption.flippedByte.apply(to: ctx.backupURL(name))
        let changed = try changeAfterBackup(db)

        let restore = try ctx.pgbackup(["restore", name, "--yes", "--json"], database: db)
        #expect(restore.status != 0, "\(restore)")
        #expect(ctx.dumpFiles() == [name], "refused by the pre-pass, before the safety backup")
        DumpComparison.expectEqual(changed, try ctx.cluster.normalisedDump(db), "database after a refused restore")
    }
}
