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

        /// The outage of one database (`A`) while another (`B`) in the same directory keeps backing up: every create
        /// and cleanup of `B` leaves `A` its newest BACKUP_MAX_COUNT, `B`'s schedule does not hold `A`'s off, and
        /// `A`'s recovery costs `B` nothing.
        @Test func sixtyDayOutageOfOneDatabaseCostsTheOtherNothing() throws {
            let dbA = try ctx.sampleCopy("outagea")
            let dbB = try ctx.sampleCopy("outageb")
            let oldA = try outage(dbA, count: 30, newestDaysAgo: 61)
            let oldB = try outage(dbB, count: 3, newestDaysAgo: 20)

            // B's scheduled run: B keeps all four of its own (within the count), A loses only what its own rule says.
            let runB = try ctx.scheduler(database: dbB, env: settings)
            #expect(runB.status == 0, "\(runB)")
            let freshB = try #require(try ctx.listedNames(dbB).first { !oldB.contains($0) && $0.hasPrefix("backup_\(dbB)_") })
            #expect(runB.err.contains("database=\(dbA)") && runB.err.contains("database=\(dbB)"),
                    "the scheduler's log names each database's retention: \(runB.err)")
            #expect(Set(names(of: dbA)) == Set(oldA.suffix(5)), "A keeps its newest 5 after B's run")
            #expect(Set(names(of: dbB)) == Set(oldB + [freshB]))

            // A's scheduled run is due although B has a fresh scheduled backup; A keeps itself and its 4 newest.
            let runA = try ctx.scheduler(database: dbA, env: settings)
            #expect(runA.status == 0, "\(runA)")
            #expect(runA.err.contains("Running scheduled backup"), "\(runA.err)")
            let listedA = names(of: dbA)
            #expect(listedA.count == 5 && Array(listedA.dropFirst()) == Array(oldA.suffix(4).reversed()), "\(listedA)")
            #expect(Set(names(of: dbB)) == Set(oldB + [freshB]), "A's recovery must cost B nothing")

            // Many more creates of B than BACKUP_MAX_COUNT: A keeps exactly what it had.
            let keptA = names(of: dbA)
            var youngB = [freshB]
            for index in 0..<5 { youngB.append(try ctx.create(dbB, description: "busy \(index)", env: settings)) }
            #expect(names(of: dbA) == keptA, "B's busy week must not cost A anything")
            #expect(Set(names(of: dbB)) == Set(youngB), "B keeps its six young backups and loses its own old ones")
            for name in keptA {
                let verify = try ctx.pgbackup(["verify", name, "--json"], database: dbA)
                #expect(verify.status == 0, "A's kept backups are intact: \(verify)")
            }
        }

        /// Listed backups of one database (the list holds every database's), newest first.
        private func names(of database: String) -> [String] {
            ((try? ctx.listedNames(database)) ?? []).filter { $0.hasPrefix("backup_\(database)_") }
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
