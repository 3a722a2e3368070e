import Foundation
import TestSupport
import Testing

extension FaultSuite {
    /// BACKUP_DIR on a tiny tmpfs: creates fail cleanly, free what they wrote, keep older backups intact and
    /// record the failure.
    @Suite("disk full", .serialized, .postgresCluster)
    final class DiskFullTests {
        let ctx: CLITestContext

        init() throws { ctx = try CLITestContext() }
        deinit { ctx.remove() }

        @Test func dumpThatDoesNotFitFailsAndFreesWhatItWrote() throws {
            let small = try ctx.sampleCopy("fullsmall")
            let big = try ctx.bulkDatabase("fullbig", rows: 100_000)
            let volume = try FaultTmpfs(over: ctx, bytes: 3 << 20)
            defer { volume.unmount() }
            let older = try ctx.create(small, description: "fits")
            let invariants = ctx.invariants(big)
            let before = try invariants.check()
            let freeBefore = volume.freeBytes

            // The free-space check passes (the last backup is small), then the disk fills up mid-dump.
            let result = try ctx.pgbackup(["create", "-d", "does not fit"], database: big)
            try ctx.expectFailedCreate(result, mentioning: ["No space left on device"], database: big,
                                       listedBefore: [older])
            #expect(result.err.contains(".partial/"), "the message should name the file being written: \(result.err)")
            // Everything it wrote is gone again (the state file may have grown by a page to record the failure).
            #expect(volume.freeBytes >= freeBefore - volume.pageSize, "free \(volume.freeBytes), was \(freeBefore)")
            try invariants.check(unchanged: before)

            // With the space given back, the next (small) backup works.
            _ = try ctx.create(small, description: "after the failure")
            try invariants.check(unchanged: before)
        }

        @Test func sidecarThatCannotBeWrittenFailsAndLeavesNoOrphan() throws {
            let db = try ctx.sampleCopy("fullsidecar")
            let volume = try FaultTmpfs(over: ctx, bytes: 64 << 20)
            defer { volume.unmount() }
            let older = try ctx.create(db, description: "before the inode limit")
            let invariants = ctx.invariants(db)
            let before = try invariants.check()
            // One free inode: the dump's partial file takes it, so the dump is written and renamed into place, and
            // the sidecar's temp file is the first thing that cannot be created.
            try volume.remount(inodes: volume.usedInodes + 1)

            let result = try ctx.pgbackup(["create", "-d", "no room for the sidecar"], database: db)
            try ctx.expectFailedCreate(result, mentioning: ["No space left on device"], database: db, listedBefore: [older])
            #expect(result.err.contains(".json"), "the message should name the sidecar: \(result.err)")
            #expect(ctx.dumpFiles() == [older], "the dump without its sidecar must be removed: \(ctx.dumpFiles())")
            try invariants.check(unchanged: before)

            try volume.remount(inodes: volume.usedInodes + 100)
            _ = try ctx.create(db, description: "inodes back")
            try invariants.check(unchanged: before)
        }

        @Test func tooLittleFreeSpaceIsRefusedBeforeAnythingIsWritten() throws {
            let db = try ctx.bulkDatabase("fullcheck", rows: 40_000)
            let volume = try FaultTmpfs(over: ctx, bytes: 64 << 20)
            defer { volume.unmount() }
            let older = try ctx.create(db, description: "sets the expected size")
            let size = try FileTools.size(ctx.backupURL(older))
            // Leave about half a backup free: less than the 1.2 × last size the create asks for.
            try volume.remount(bytes: volume.usedBytes + size / 2)
            let invariants = ctx.invariants(db)
            let before = try invariants.check()

            let result = try ctx.pgbackup(["create", "-d", "refused"], database: db)
            try ctx.expectFailedCreate(result, mentioning: ["not enough free space"], database: db, listedBefore: [older])
            let json = try ctx.pgbackup(["create", "--json"], database: db)
            #expect(json.status == 1)
            #expect(try json.jsonObject()["error"] as? String == "insufficient_space")
            try invariants.check(unchanged: before)
        }

        /// Issue 16: another database's big backup says nothing about how big this one will be.
        @Test func freeSpaceCheckComparesWithTheSameDatabasesLastBackup() throws {
            let big = try ctx.bulkDatabase("spacebig", rows: 40_000)
            let small = try ctx.sampleCopy("spacesmall")
            let volume = try FaultTmpfs(over: ctx, bytes: 64 << 20)
            defer { volume.unmount() }
            let smallOld = try ctx.create(small, description: "small")
            let bigOld = try ctx.create(big, description: "sets the big expected size")
            let size = try FileTools.size(ctx.backupURL(bigOld))
            #expect(try FileTools.size(ctx.backupURL(smallOld)) * 8 < size, "the sample backup should be far smaller")
            // About half a big backup free: room for many small ones, not for another big one.
            try volume.remount(bytes: volume.usedBytes + size / 2)

            let smallNew = try ctx.create(small, description: "fits next to the big one")
            #expect(try ctx.listedNames(small).first == smallNew)
            let refused = try ctx.pgbackup(["create", "--json"], database: big)
            #expect(refused.status == 1, "\(refused)")
            #expect(try refused.jsonObject()["error"] as? String == "insufficient_space")
        }

        /// Issue 19 item 8: the space is for the restore's safety backup; say how much, and how to skip it
        /// (lowering retention frees nothing when the only backup is the one being restored).
        @Test func tooLittleSpaceForTheSafetyBackupSaysSoAndHowToSkipIt() throws {
            let db = try ctx.bulkCopy("fullsafety", rows: 40_000)
            let volume = try FaultTmpfs(over: ctx, bytes: 64 << 20)
            defer { volume.unmount() }
            let only = try ctx.create(db, description: "the only backup")
            let size = try FileTools.size(ctx.backupURL(only))
            try ctx.cluster.psql("UPDATE canary SET value = 'after the backup'", database: db)
            try volume.remount(bytes: volume.usedBytes + size / 2)
            let dumpBefore = try ctx.cluster.normalisedDump(db)
            let invariants = ctx.invariants(db)
            let before = try invariants.check()

            let result = try ctx.pgbackup(["restore", only, "--yes"], database: db)
            #expect(result.status == 1, "\(result)")
            let needed = String(format: "%.1f MB needed", Double(Int64(Double(size) * 1.2)) / 1_048_576)
            for expected in ["for the safety backup", needed, "MB available", "--no-safety-backup",
                             "\"safety_backup\": false"] {
                #expect(result.err.contains(expected), "\(expected): \(result.err)")
            }
            #expect(!result.err.contains("BACKUP_RETENTION_DAYS"), "retention advice frees nothing here: \(result.err)")
            let json = try ctx.pgbackup(["restore", only, "--yes", "--json"], database: db)
            #expect(json.status == 1)
            #expect(try json.jsonObject()["error"] as? String == "insufficient_space")
            DumpComparison.expectEqual(dumpBefore, try ctx.cluster.normalisedDump(db), "database after the refusal")
            try invariants.check(unchanged: before)

            // The advice works on the same full volume.
            let skipped = try ctx.pgbackup(["restore", only, "--yes", "--no-safety-backup"], database: db)
            #expect(skipped.status == 0, "\(skipped)")
            #expect(try ctx.cluster.psql("SELECT value FROM canary", database: db) == SampleSchema.canaryValue)
            try invariants.check(unchanged: before)
        }

        @Test func aVolumeThatIsAlreadyFullStillRecordsTheFailure() throws {
            let db = try ctx.sampleCopy("fullalready")
            let volume = try FaultTmpfs(over: ctx, bytes: 8 << 20)
            defer { volume.unmount() }
            let older = try ctx.create(db, description: "before the volume filled up")
            let invariants = ctx.invariants(db)
            let before = try invariants.check()
            // Something else on the volume (logs, another tool's files) takes every last block.
            let filler = ctx.scratch.appending("someone-elses-file")
            let fill = try ProcessRunner.run(try ProcessRunner.tool("dd"),
                                             ["if=/dev/zero", "of=\(filler.path)", "bs=64k"], timeout: .seconds(60))
            #expect(fill.status != 0 && volume.freeBytes == 0, "the filler should fill the volume: \(fill)")

            // The create is refused (by the free-space check or by ENOSPC); a person running `status` or a monitor
            // polling it must learn of it even though the volume has no room for the state file's usual temp copy.
            let result = try ctx.pgbackup(["create", "-d", "no room at all"], database: db)
            try ctx.expectFailedCreate(result, mentioning: ["not enough free space", "No space left on device"],
                                       database: db, listedBefore: [older])
            try invariants.check(unchanged: before)

            try FileManager.default.removeItem(at: filler)
            _ = try ctx.create(db, description: "room again")
            try invariants.check(unchanged: before)
        }
    }
}
