import Foundation
import Testing

/// A damaged backup is caught by verify (exit 4, saying what failed) and never touches a database.
@Suite("CLI: verify and damaged backups", .serialized, .postgresCluster)
final class CLIVerifyTests {
    let ctx: CLITestContext

    init() throws { ctx = try CLITestContext() }
    deinit { ctx.remove() }

    /// Words one of which the verify message must contain for each kind of damage.
    static func reasonWords(_ corruption: Corruption, checksumRecorded: Bool) -> [String] {
        switch corruption {
        case .truncated: ["truncated", "ends early"]
        case .flippedByte: ["corrupt", "crc"] + (checksumRecorded ? ["sha-256", "sha256"] : [])
        case .appendedGarbage: ["after the end", "garbage", "trailing"] + (checksumRecorded ? ["sha-256", "sha256"] : [])
        }
    }

    private func expectRejected(
        _ name: String, _ corruption: Corruption, checksumRecorded: Bool, database: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let human = try ctx.pgbackup(["verify", name], database: database)
        #expect(human.status == 4, "\(human)", sourceLocation: sourceLocation)
        #expect(human.err.contains(name), sourceLocation: sourceLocation)
        let words = Self.reasonWords(corruption, checksumRecorded: checksumRecorded)
        #expect(words.contains { human.err.lowercased().contains($0) }, "expected one of \(words) in: \(human.err)",
                sourceLocation: sourceLocation)

        let json = try ctx.pgbackup(["verify", name, "--json"], database: database)
        #expect(json.status == 4, sourceLocation: sourceLocation)
        let answer = try JSON.object(json.stdout)
        #expect(answer["success"] as? Bool == false, sourceLocation: sourceLocation)
        #expect(answer["error"] as? String == "verification_failed", sourceLocation: sourceLocation)
        let detail = (answer["detail"] as? String ?? "").lowercased()
        #expect(words.contains { detail.contains($0) }, "detail: \(detail)", sourceLocation: sourceLocation)
    }

    @Test(arguments: Corruption.allCases)
    func damagedBackupFailsVerifyAndRestoreLeavesTheDatabaseUnchanged(_ corruption: Corruption) throws {
        let db = try ctx.sampleDatabase("damaged")
        let name = try ctx.create(db)
        try corruption.apply(to: ctx.backupURL(name))
        try ctx.cluster.psql("UPDATE canary SET value = 'written after the backup'", database: db)
        let dumpBefore = try ctx.cluster.normalisedDump(db)

        try expectRejected(name, corruption, checksumRecorded: true, database: db)

        // With the safety backup on: a bad file must be refused before anything is done, that included.
        let restore = try ctx.pgbackup(["restore", name, "--yes"], database: db)
        #expect(restore.status == 4, "\(restore)")
        DumpComparison.expectEqual(dumpBefore, try ctx.cluster.normalisedDump(db), "database after the refused restore")
        #expect(try ctx.cluster.psql("SELECT value FROM canary", database: db) == "written after the backup")
        #expect(ctx.dumpFiles() == [name], "no safety backup may be made for a restore that is refused")
    }

    @Test(arguments: Corruption.allCases)
    func damagedOldToolBackupFailsTheGzipChecks(_ corruption: Corruption) throws {
        // No checksum recorded: only the gzip CRCs, the gzip framing and the trailer can catch the damage.
        let db = try ctx.sampleDatabase("oldtool_damaged")
        let name = try BackupFiles.writeOldToolBackup(
            dump: Data(try ctx.cluster.dump(db).utf8), database: db, timestamp: "20260129_120000",
            createdAt: "2026-01-29T12:00:00.123456", description: "old tool", in: ctx.backupDir)
        try corruption.apply(to: ctx.backupURL(name))
        let target = try ctx.emptyDatabase("oldtool_damaged_target")
        try ctx.cluster.psql("CREATE TABLE keep_me (id int); INSERT INTO keep_me VALUES (42);", database: target)
        let targetDump = try ctx.cluster.normalisedDump(target)

        try expectRejected(name, corruption, checksumRecorded: false, database: db)
        let restore = try ctx.pgbackup(["restore", name, "--target-db", target, "--yes", "--no-safety-backup"], database: db)
        #expect(restore.status == 4, "\(restore)")
        DumpComparison.expectEqual(targetDump, try ctx.cluster.normalisedDump(target), "target after the refused restore")
    }

    @Test func dumpWithoutItsCompletionTrailerIsRejected() throws {
        // What a pg_dump killed mid-way leaves: valid gzip (gunzip -t accepts it) of an incomplete dump.
        let db = try ctx.sampleDatabase("notrailer")
        let full = try ctx.cluster.dump(db)
        let cut = try #require(full.range(of: "COPY public.orders"))
        let name = try BackupFiles.writeOldToolBackup(
            dump: Data(full[..<cut.lowerBound].utf8), database: db, timestamp: "20260129_120000",
            createdAt: "2026-01-29T12:00:00.123456", description: "cut short", in: ctx.backupDir)
        #expect(try BackupFiles.gunzipTest(ctx.backupURL(name)).status == 0)
        let target = try ctx.emptyDatabase("notrailer_target")

        let verify = try ctx.pgbackup(["verify", name], database: db)
        #expect(verify.status == 4, "\(verify)")
        #expect(verify.err.lowercased().contains("trailer") || verify.err.contains("dump complete"), "\(verify.err)")
        let restore = try ctx.pgbackup(["restore", name, "--target-db", target, "--yes", "--no-safety-backup"], database: db)
        #expect(restore.status == 4, "\(restore)")
        #expect(try ctx.cluster.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", database: target) == "0")
    }

    @Test func intactBackupVerifiesWithEveryCheck() throws {
        let db = try ctx.sampleDatabase("intact")
        let name = try ctx.create(db)
        let result = try ctx.pgbackup(["verify", name, "--json"], database: db)
        try #require(result.status == 0, "\(result)")
        let answer = try JSON.object(result.stdout)
        #expect(answer["verified"] as? Bool == true)
        #expect(answer["checks"] as? [String] == ["sha256", "gzip_crc", "dump_trailer"])
        #expect(answer["sha256"] as? String == (try BackupFiles.sha256(ctx.backupURL(name))))
        #expect(JSON.int(answer["uncompressed_bytes"]) == (try BackupFiles.gunzip(ctx.backupURL(name))).count)
        let human = try ctx.pgbackup(["verify", name], database: db)
        #expect(human.status == 0)
        #expect(human.out.contains(name))
    }

    @Test func verifyAllNamesTheOneBadBackupAmongGoodOnes() throws {
        let db = try ctx.sampleDatabase("verifyall")
        let first = try ctx.create(db, description: "first")
        let second = try ctx.create(db, description: "second")
        let third = try ctx.create(db, description: "third")
        try Corruption.flippedByte.apply(to: ctx.backupURL(second))

        let result = try ctx.pgbackup(["verify", "--all", "--json"], database: db)
        #expect(result.status == 4, "\(result)")
        let answer = try JSON.object(result.stdout)
        #expect(JSON.int(answer["checked"]) == 3)
        #expect(JSON.int(answer["failed"]) == 1)
        let results = try #require(answer["results"] as? [[String: Any]])
        let verdicts = Dictionary(uniqueKeysWithValues: results.compactMap { entry in
            (entry["filename"] as? String).map { ($0, entry["verified"] as? Bool ?? false) }
        })
        #expect(verdicts == [first: true, second: false, third: true])

        let human = try ctx.pgbackup(["verify", "--all"], database: db)
        #expect(human.status == 4)
        #expect(human.combined.contains("❌ \(second)"))
    }
}
