import Foundation
import Testing

extension FaultSuite {
    /// Retention after the backups stopped for a long time: it keeps the newest BACKUP_MAX_COUNT, never the newest
    /// one, never anything incomplete, and never runs after a failed backup.
    @Suite("retention after an outage", .serialized, .postgresCluster)
    final class RetentionTests {
        let ctx: CLITestContext
        let settings = ["BACKUP_MAX_COUNT": "5", "BACKUP_RETENTION_DAYS": "7"]

        init() throws { ctx = try CLITestContext() }
        deinit { ctx.remove() }

        /// Copies a real backup under the name and `created_at` it would have had at `date` (same bytes, so it still
        /// verifies), with the file's mtime set to now: retention must go by `created_at`.
        private func backdated(_ real: String, database: String, at date: Date, kind: String = "scheduled") throws -> String {
            let stamp = TimeText.iso8601(date)
            let digits = stamp.filter(\.isNumber)
            let timestamp = "\(digits.prefix(8))_\(digits.dropFirst(8).prefix(6))"
            let name = "backup_\(database)_\(timestamp).sql.gz"
            try FileManager.default.copyItem(at: ctx.backupURL(real), to: ctx.backupURL(name))
            var sidecar = try ctx.sidecar(real)
            sidecar["filename"] = name
            sidecar["timestamp"] = timestamp
            sidecar["created_at"] = stamp
            sidecar["kind"] = kind
            sidecar["description"] = "Automated scheduled backup"
            try JSON.write(sidecar, to: ctx.sidecarURL(name))
            for url in [ctx.backupURL(name), ctx.sidecarURL(name)] { chmod(url.path, 0o600) }
            return name
        }

        /// `count` daily backups ending `newestDaysAgo` days ago, oldest first; the real one is removed.
        private func outage(_ database: String, count: Int, newestDaysAgo: Int) throws -> [String] {
            let real = try ctx.create(database, description: "template")
            let now = Date()
            let names = try (0..<count).map { index in
                let daysAgo = Double(newestDaysAgo + count - 1 - index)
                return try backdated(real, database: database, at: now.addingTimeInterval(-daysAgo * 86_400 - 3_600))
            }
            try FileManager.default.removeItem(at: ctx.sidecarURL(real))
            try FileManager.default.removeItem(at: ctx.backupURL(real))
            return names
        }

        @Test func sixtyDayOutageKeepsTheNewestMaxCountAndNothingRunsAfterAFailure() throws {
            let db = try ctx.sampleCopy("outage")
            let old = try outage(db, count: 30, newestDaysAgo: 61)
            let invariants = ctx.invariants(db)
            let before = try invariants.check()
            #expect(before.count == 30)

            // A dry run says what would go and removes nothing.
            let dry = try ctx.pgbackup(["cleanup", "--dry-run", "--json"], database: db, env: settings)
            #expect(dry.status == 0, "\(dry)")
            #expect(Set(try dry.jsonObject()["deleted"] as? [String] ?? []) == Set(old.prefix(25)), "\(dry.out)")
            #expect(try ctx.listedNames(db).count == 30)

            // The first run after the outage fails (server unreachable): retention must not run.
            let failed = try ctx.scheduler(database: db, env: settings.merging(["POSTGRES_PORT": "1"]) { $1 })
            #expect(failed.status == 1, "\(failed)")
            try invariants.check(unchanged: before)
            #expect(try ctx.listedNames(db).count == 30, "retention ran after a failed backup")

            // The next run succeeds: the new backup and the 4 newest old ones stay.
            let run = try ctx.scheduler(database: db, env: settings)
            #expect(run.status == 0, "\(run)")
            let listed = try ctx.listedNames(db)
            #expect(listed.count == 5, "\(listed)")
            #expect(Array(listed.dropFirst()) == Array(old.suffix(4).reversed()), "kept \(listed)")
            let fresh = try #require(listed.first)
            #expect(!old.contains(fresh))
            #expect(try ctx.sidecar(fresh)["kind"] as? String == "scheduled")
            try invariants.check(unchanged: before, mayBeDeleted: Set(old.prefix(26)))
            for name in old.prefix(26) {
                #expect(!FileManager.default.fileExists(atPath: ctx.backupURL(name).path), "\(name) should be deleted")
                #expect(!FileManager.default.fileExists(atPath: ctx.sidecarURL(name).path))
            }
        }

        @Test func theNewestBackupSurvivesEvenWhenEverythingIsOld() throws {
            let db = try ctx.sampleCopy("allold")
            let old = try outage(db, count: 4, newestDaysAgo: 61)
            let invariants = ctx.invariants(db)
            let before = try invariants.check()
            let strict = ["BACKUP_MAX_COUNT": "1", "BACKUP_RETENTION_DAYS": "1"]

            let cleanup = try ctx.pgbackup(["cleanup", "--json"], database: db, env: strict)
            #expect(cleanup.status == 0, "\(cleanup)")
            #expect(try ctx.listedNames(db) == [old[3]], "the newest backup must be kept")
            try invariants.check(unchanged: before, mayBeDeleted: Set(old.prefix(3)))

            // A failing create with the same strict settings deletes nothing, the newest included.
            let failed = try ctx.pgbackup(["create"], database: db, env: strict.merging(["POSTGRES_PORT": "1"]) { $1 })
            #expect(failed.status == 1)
            #expect(try ctx.listedNames(db) == [old[3]])
        }

        @Test func retentionNeverCountsOrDeletesOrphansDamagedEntriesOrPartials() throws {
            let db = try ctx.sampleCopy("incomplete")
            let old = try outage(db, count: 3, newestDaysAgo: 40)
            // An orphan (dump without sidecar) and a damaged sidecar, both older than everything else.
            let orphan = "backup_\(db)_20200101_000000.sql.gz"
            try FileManager.default.copyItem(at: ctx.backupURL(old[0]), to: ctx.backupURL(orphan))
            let damaged = "backup_\(db)_20200102_000000.sql.gz"
            try FileManager.default.copyItem(at: ctx.backupURL(old[0]), to: ctx.backupURL(damaged))
            try Data("{ not json".utf8).write(to: ctx.sidecarURL(damaged))
            let invariants = ctx.invariants(db)
            let before = try invariants.check()
            let orphanSHA = try BackupFiles.sha256(ctx.backupURL(orphan))

            let run = try ctx.pgbackup(["create", "--json"], database: db,
                                       env: ["BACKUP_MAX_COUNT": "2", "BACKUP_RETENTION_DAYS": "1"])
            #expect(run.status == 0, "\(run)")
            let listed = try ctx.listedNames(db)
            #expect(listed.count == 2 && listed.last == old[2], "kept \(listed)")
            #expect(try BackupFiles.sha256(ctx.backupURL(orphan)) == orphanSHA, "the orphan must never be deleted")
            #expect(FileManager.default.fileExists(atPath: ctx.backupURL(damaged).path), "the damaged entry must be kept")
            #expect(FileManager.default.fileExists(atPath: ctx.sidecarURL(damaged).path))
            let status = try ctx.status(db)
            #expect(status["orphans"] as? [String] == [orphan])
            #expect((status["damaged"] as? [[String: Any]])?.first?["filename"] as? String == damaged)
            try invariants.check(unchanged: before, mayBeDeleted: Set(old.prefix(2)))
        }
    }
}
