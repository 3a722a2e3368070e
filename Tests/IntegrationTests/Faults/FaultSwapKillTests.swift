import Foundation
import TestSupport
import Testing

extension FaultSuite {
    /// kill -9 of pgbackup at random points of a `restore --swap` (creating, loading, checking, around the renaming
    /// transaction): afterwards the target is one whole database, the old one or the restored one, never a mix;
    /// the next run drops what the killed ones left (`<db>_new_*`) and succeeds.
    @Suite("kill -9 during restore --swap", .serialized, .postgresCluster)
    final class SwapKillTests {
        let ctx: CLITestContext

        init() throws { ctx = try CLITestContext() }
        deinit { ctx.remove() }

        /// The canary, the bulk table's rows and a digest of all of them, and the notes' count.
        func fingerprint(_ database: String) throws -> String {
            try ctx.cluster.psql("""
                SELECT (SELECT value FROM canary WHERE id = 1) || ' ' || (SELECT count(*) FROM bulk) || ' '
                  || (SELECT md5(string_agg(a || b, '' ORDER BY id)) FROM bulk) || ' ' || (SELECT count(*) FROM notes)
                """, database: database)
        }

        func swapDatabases(_ target: String, _ kind: String) throws -> [String] {
            try ctx.cluster.psql("SELECT datname FROM pg_database WHERE datname LIKE '\(target)\\_\(kind)\\_%' ORDER BY 1")
                .split(separator: "\n").map(String.init)
        }

        func gone(_ pids: [pid_t]) -> Bool {
            let live = Set(ProcessTable.all().filter { $0.state != "Z" }.map(\.pid))
            return pids.allSatisfy { !live.contains($0) }
        }

        @Test func killingASwapAtRandomPointsLeavesTheTargetWholeAndTheNextRunDropsTheLeftovers() throws {
            var random = FaultRandom(seed: 0x5A_9D_B1)
            let db = try ctx.bulkCopy("killswap")
            let backup = try ctx.create(db, description: "to swap in")
            let restored = try fingerprint(db)
            try ctx.cluster.psql("UPDATE canary SET value = 'changed'; DELETE FROM bulk WHERE id % 7 = 0; "
                                 + "DELETE FROM notes WHERE id > 3", database: db)
            let old = try fingerprint(db)
            let arguments = ["restore", backup, "--swap", "--yes", "--json"]

            // One whole run, timed, then rolled back to the old data.
            let started = Date()
            let full = try ctx.pgbackup(arguments, database: db, timeout: .seconds(300))
            let seconds = Date().timeIntervalSince(started)
            try #require(full.status == 0, "\(full)")
            #expect(try fingerprint(db) == restored)
            try #require(try ctx.pgbackup(["rollback", "--yes"], database: db).status == 0)
            try #require(try fingerprint(db) == old)

            var outcomes: [String] = []
            for attempt in 0..<12 {
                let delay = Double.random(in: 0.05...(seconds * 1.05), using: &random)
                let run = try ctx.startPgbackup(arguments, database: db)
                usleep(useconds_t(delay * 1_000_000))
                let children = FaultProc.children(of: run.pid)
                kill(run.pid, SIGKILL)
                let result = run.wait(timeout: .seconds(60))
                // An orphaned psql finishes what it was given (its stdin closed) and exits; wait for it.
                Poll.until(timeout: 60) { gone(children) }
                let now = try fingerprint(db)
                let label = "seed \(random.seed), attempt \(attempt), killed after \(String(format: "%.2f", delay)) s"
                #expect(now == old || now == restored, "\(label): the target is a mix: \(now) (\(result))")
                let leftovers = try swapDatabases(db, "new")
                #expect(leftovers.count <= 1, "\(label): \(leftovers)")
                if now == restored {
                    outcomes.append(result.status == 0 ? "finished" : "swapped")
                    #expect(leftovers.isEmpty, "\(label): swapped in, yet \(leftovers)")
                    try #require(try ctx.pgbackup(["rollback", "--yes"], database: db).status == 0, "\(label)")
                    try #require(try fingerprint(db) == old, "\(label)")
                } else {
                    outcomes.append(leftovers.isEmpty ? "before create" : "during load or check")
                }
            }
            print("restore --swap kill outcomes (seed \(random.seed)): \(outcomes)")
            #expect(outcomes.filter { $0 == "during load or check" }.count >= 3, "\(outcomes)")

            // The next run drops what the killed runs left and swaps in.
            let leftover = try swapDatabases(db, "new")
            let next = try ctx.pgbackup(arguments, database: db, timeout: .seconds(300))
            #expect(next.status == 0, "\(next)")
            let dropped = try next.jsonObject()["dropped_databases"] as? [String] ?? []
            #expect(Set(leftover).isSubset(of: Set(dropped)), "\(leftover) vs \(dropped)")
            #expect(try swapDatabases(db, "new").isEmpty)
            #expect(try fingerprint(db) == restored)
            #expect(try swapDatabases(db, "before").count == 1, "BACKUP_KEEP_PREVIOUS_DATABASES=1 honoured after the kills")
            _ = try ctx.invariants(db).check("after the swap kills")
        }
    }
}
