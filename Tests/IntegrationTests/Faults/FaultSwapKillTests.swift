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

        /// The target is the old or the restored database, never a mix; restored ones are rolled back for the next
        /// attempt. Returns where the kill landed, as far as can be told from outside.
        func afterKill(_ db: String, old: String, restored: String, result: ProcessResult, _ label: String) throws -> String {
            let now = try fingerprint(db)
            #expect(now == old || now == restored, "\(label): the target is a mix: \(now) (\(result))")
            let leftovers = try swapDatabases(db, "new")
            #expect(leftovers.count <= 1, "\(label): \(leftovers)")
            guard now == restored else {
                let checked = leftovers.first.flatMap { try? ctx.cluster.psql("SELECT count(*) FROM bulk", database: $0) }
                return leftovers.isEmpty ? "before create" : checked == "300000" ? "after the check" : "during load or check"
            }
            #expect(leftovers.isEmpty, "\(label): swapped in, yet \(leftovers)")
            try #require(try ctx.pgbackup(["rollback", "--yes"], database: db).status == 0, "\(label)")
            try #require(try fingerprint(db) == old, "\(label)")
            return result.status == 0 ? "finished" : "swapped"
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
            // 12 kills at random times of the whole run, then 5 just after the load and the row counts (their psql
            // on the new database gone): among the session check, the renaming transaction and what follows it.
            // Then 3 while the renaming transaction's psql runs (pgbackup dies; psql finishes it or not, atomically).
            for attempt in 0..<20 {
                let run = try ctx.startPgbackup(arguments, database: db)
                var delay: Double = 0
                if attempt >= 17 {
                    Poll.until(timeout: 120, interval: 1) {
                        guard run.isRunning else { return true }
                        return FaultProc.children(of: run.pid, command: "psql").contains { pid in
                            ProcessTable.commandLine(pid).map { String(decoding: $0, as: UTF8.self).contains("RENAME TO") } ?? false
                        }
                    }
                } else if attempt < 12 {
                    delay = Double.random(in: 0.05...(seconds * 1.05), using: &random)
                    usleep(useconds_t(delay * 1_000_000))
                } else {
                    delay = Double.random(in: 0...0.08, using: &random)
                    var sawLoad = false
                    Poll.until(timeout: 120, interval: 2) {
                        guard run.isRunning else { return true }
                        let onNew = FaultProc.children(of: run.pid, command: "psql").contains { pid in
                            ProcessTable.environment(pid).contains { $0.hasPrefix("PGDATABASE=\(db)_new_") }
                        }
                        if onNew { sawLoad = true }
                        return sawLoad && !onNew
                    }
                    usleep(useconds_t(delay * 1_000_000))
                }
                let children = FaultProc.children(of: run.pid)
                kill(run.pid, SIGKILL)
                let result = run.wait(timeout: .seconds(60))
                // An orphaned psql finishes what it was given (its stdin closed) and exits; wait for it.
                Poll.until(timeout: 60) { gone(children) }
                let label = "seed \(random.seed), attempt \(attempt), killed after \(String(format: "%.3f", delay)) s"
                outcomes.append(try afterKill(db, old: old, restored: restored, result: result, label))
            }
            print("restore --swap kill outcomes (seed \(random.seed)): \(outcomes)")
            #expect(outcomes.filter { $0 == "during load or check" }.count >= 3, "\(outcomes)")
            #expect(outcomes.contains("swapped") || outcomes.contains("finished") || outcomes.contains("after the check"),
                    "no kill landed around the swap: \(outcomes)")

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
