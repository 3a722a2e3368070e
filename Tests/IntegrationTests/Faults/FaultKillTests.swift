import Foundation
import TestSupport
import Testing

extension FaultSuite {
    /// kill -9 at random points of a create (pg_dump, then pgbackup itself) and of a restore: nothing half-made is
    /// ever listed, the database is never left half-restored, and the next mutating run sweeps up.
    @Suite("kill -9 during create and restore", .serialized, .postgresCluster)
    final class KillTests {
        let ctx: CLITestContext

        init() throws { ctx = try CLITestContext() }
        deinit { ctx.remove() }

        /// Polls the partial file until it holds `target` bytes, then runs `action` (once, while `run` is alive);
        /// returns the partial size at that moment, or nil when the create ended first.
        private func whenPartialReaches(_ target: Int, of run: RunningProcess, _ action: () -> Bool) -> Int? {
            var firedAt: Int?
            Poll.until(timeout: 120, interval: 500) {
                guard run.isRunning else { return true }
                guard let size = ctx.partialDumpSize(), size >= target else { return false }
                if action() { firedAt = size }
                return true
            }
            return firedAt
        }

        @Test func killingPgDumpAtRandomOffsetsNeverListsAPartialBackup() throws {
            var random = FaultRandom(seed: 0xD0_0D1E)
            let db = try ctx.bulkCopy("killdump")
            let invariants = ctx.invariants(db)
            let first = try ctx.create(db, description: "made before the kills")
            let fullSize = try FileTools.size(ctx.backupURL(first))
            // pg_dump runs a few MiB ahead of the file (pipe + blocks in flight); aim where it surely still runs.
            let maxOffset = fullSize * 45 / 100
            var before = try invariants.fingerprints()
            var landed: [Int] = []
            var attempts = 0
            while landed.count < 10, attempts < 20 {
                attempts += 1
                let target = Int.random(in: 1...maxOffset, using: &random)
                let listed = try ctx.listedNames(db)
                let run = try ctx.startPgbackup(["create", "-d", "pg_dump killed at \(target)"], database: db)
                let killedAt = whenPartialReaches(target, of: run) {
                    guard let dump = FaultProc.children(of: run.pid, command: "pg_dump").first else { return false }
                    return kill(dump, SIGKILL) == 0
                }
                let result = run.wait(timeout: .seconds(120))
                if let killedAt {
                    landed.append(killedAt)
                    try ctx.expectFailedCreate(result, mentioning: ["killed by signal 9"], database: db, listedBefore: listed)
                } else {
                    // The dump finished before the file reached the target: then it must be a whole backup.
                    #expect(result.status == 0, "seed \(random.seed), target \(target): \(result)")
                }
                before = try invariants.check(unchanged: before, "seed \(random.seed), attempt \(attempts), target \(target)")
            }
            #expect(landed.count >= 10, "only \(landed.count) of \(attempts) kills landed mid-dump (seed \(random.seed))")
            #expect(Set(landed).count >= 5, "kills should land at different offsets: \(landed)")
        }

        @Test func killingPgbackupDuringCreateLeavesOnlyAStalePartialThatTheNextRunRemoves() throws {
            var random = FaultRandom(seed: 0xC4EA7E)
            let db = try ctx.bulkCopy("killcli")
            let invariants = ctx.invariants(db)
            let first = try ctx.create(db, description: "made before the kills")
            let maxOffset = try FileTools.size(ctx.backupURL(first)) * 45 / 100
            let before = try invariants.fingerprints()
            var landed = 0
            var attempts = 0
            while landed < 3, attempts < 8 {
                attempts += 1
                let target = Int.random(in: 1...maxOffset, using: &random)
                let run = try ctx.startPgbackup(["create", "-d", "pgbackup killed at \(target)"], database: db)
                var orphanedDump: pid_t?
                let killedAt = whenPartialReaches(target, of: run) {
                    orphanedDump = FaultProc.children(of: run.pid, command: "pg_dump").first
                    return kill(run.pid, SIGKILL) == 0
                }
                let result = run.wait(timeout: .seconds(120))
                guard killedAt != nil, result.signal == SIGKILL else {
                    #expect(result.status == 0, "seed \(random.seed), target \(target): \(result)")
                    try invariants.check(unchanged: before, mayBeDeleted: [], "create that outran the kill")
                    continue
                }
                landed += 1
                // pg_dump loses its reader and dies of SIGPIPE; it must not keep running unsupervised.
                if let orphanedDump {
                    #expect(Poll.until(timeout: 20) { !ProcessTable.isAlive(orphanedDump) },
                            "pg_dump \(orphanedDump) outlived the pgbackup that started it")
                }
                FaultProc.killLeftovers("pg_dump", database: db)
                let stale = ctx.partialFiles()
                #expect(!stale.isEmpty, "the killed run's partial file should still be in .partial")
                for name in stale {
                    let verify = try ctx.pgbackup(["verify", name], database: db)
                    #expect(verify.status == 2 && verify.err.contains("no backup named"), "a partial is not a backup: \(verify)")
                }
                try invariants.check(unchanged: before, "seed \(random.seed), pgbackup killed at \(target)")
                // The next mutating run sweeps the stale partial away.
                let cleanup = try ctx.pgbackup(["cleanup"], database: db)
                #expect(cleanup.status == 0, "\(cleanup)")
                #expect(ctx.partialFiles().isEmpty, "cleanup left \(ctx.partialFiles()) in .partial")
                try invariants.check(unchanged: before, "after cleanup")
            }
            #expect(landed >= 3, "only \(landed) of \(attempts) kills of pgbackup landed mid-dump (seed \(random.seed))")
        }

        /// The restore's psql session as the server sees it: copying data into `database` right now.
        private func restoreIsCopying(into database: String) throws -> Bool {
            try ctx.cluster.psql(
                """
                SELECT count(*) FROM pg_stat_activity
                WHERE datname = '\(database)' AND application_name = 'pgbackup' AND query ILIKE 'COPY%'
                """) != "0"
        }

        private func restoreSessions(_ database: String) throws -> Int {
            Int(try ctx.cluster.psql(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = '\(database)' AND application_name = 'pgbackup'"
            )) ?? -1
        }

        /// What the restore's victim is.
        enum RestoreVictim: String, CaseIterable, Sendable {
            /// pgbackup itself: psql sees EOF without COMMIT.
            case pgbackup
            /// psql: pgbackup must report the failure.
            case psql
        }

        @Test func killingPgbackupOrPsqlDuringRestoreLeavesTheDatabaseUnchanged() throws {
            var random = FaultRandom(seed: 0x2E5_7012E)
            let source = try ctx.bulkCopy("restsrc")
            let invariants = ctx.invariants(source)
            let backup = try ctx.create(source, description: "the backup being restored")
            let target = try ctx.sampleCopy("resttgt")
            try ctx.cluster.psql("UPDATE canary SET value = 'target before restore'; CREATE TABLE only_in_target (x int)",
                                 database: target)
            let targetBefore = try ctx.cluster.normalisedDump(target)
            let before = try invariants.check()

            for victim in [RestoreVictim.pgbackup, .psql, .pgbackup, .psql, .pgbackup, .psql] {
                let delay = useconds_t(Int.random(in: 0...250_000, using: &random))
                let what = "\(victim.rawValue) killed \(delay) µs into COPY (seed \(random.seed))"
                let run = try ctx.startPgbackup(["restore", backup, "--target-db", target, "--no-safety-backup", "--yes"],
                                                database: source)
                let copying = try Poll.until(timeout: 60, interval: 5_000) {
                    try !run.isRunning || restoreIsCopying(into: target)
                }
                #expect(copying && run.isRunning, "\(what): the restore never reached COPY")
                usleep(delay)
                switch victim {
                case .pgbackup:
                    run.signal(SIGKILL)
                case .psql:
                    for psql in FaultProc.children(of: run.pid, command: "psql") { kill(psql, SIGKILL) }
                }
                let result = run.wait(timeout: .seconds(120))
                #expect(result.status != 0, "\(what): the restore was not interrupted: \(result)")
                if victim == .psql {
                    #expect(result.status == 1, "\(what): \(result)")
                    #expect(result.err.contains("killed by signal 9"), "the failure must say psql was killed: \(result.err)")
                    #expect(result.err.contains("left unchanged"), "\(result.err)")
                    let failure = try ctx.status(source)["last_failure"] as? [String: Any]
                    #expect(failure?["operation"] as? String == "restore", "the failed restore must be recorded")
                }
                // psql's backend rolls back when its session ends; wait for that before looking.
                #expect(try Poll.until(timeout: 30, interval: 20_000) { try restoreSessions(target) == 0 })
                DumpComparison.expectEqual(targetBefore, try ctx.cluster.normalisedDump(target), "\(what): \(target)")
                try invariants.check(unchanged: before, what)
            }

            // Left alone, the same restore does change the database: the kills above interrupted a real restore.
            let full = try ctx.pgbackup(["restore", backup, "--target-db", target, "--no-safety-backup", "--yes"],
                                        database: source)
            #expect(full.status == 0, "\(full)")
            #expect(try ctx.cluster.psql("SELECT count(*) FROM bulk", database: target) == "300000")
            #expect(try ctx.cluster.psql("SELECT value FROM canary", database: target) == SampleSchema.canaryValue)
        }
    }
}
