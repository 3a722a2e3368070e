import Foundation
import TestSupport
import Testing

/// A restore that cannot fit in the server's lock table is refused up front (issue 15 part 1), and a drill of the same
/// backup passes (part 3): 4,000 serial-key tables on the harness's default settings (max_locks_per_transaction=64,
/// max_connections=100).
@Suite("CLI: lock capacity of a single-transaction restore", .serialized, .postgresCluster)
final class CLILockCapacityTests {
    let ctx: CLITestContext

    init() throws { ctx = try CLITestContext() }
    deinit { ctx.remove() }

    @Test func aRestorePastTheLockWallIsRefusedUpFrontAndTheComputedSettingIsEnough() throws {
        let database = try ctx.emptyDatabase("many")
        try ManyTables.load(into: database, on: ctx.cluster)
        let backup = try ctx.create(database, description: "4000 tables")
        #expect(JSON.int(try ctx.sidecar(backup)["lockable_objects"]) == 3 * ManyTables.defaultCount)
        let dumpBefore = try ctx.cluster.normalisedDump(database)

        let refused = try refusal(backup, database: database, what: "with the count in the sidecar")
        // The count removed from the sidecar (the sha256 covers the dump, not the sidecar): the pre-pass counts it.
        var sidecar = try ctx.sidecar(backup)
        sidecar.removeValue(forKey: "lockable_objects")
        try JSON.write(sidecar, to: ctx.sidecarURL(backup))
        #expect(try ctx.pgbackup(["verify", backup], database: database).status == 0)
        let prePass = try refusal(backup, database: database, what: "counted by the pre-pass")
        #expect(prePass == refused, "the pre-pass computes the same setting")

        DumpComparison.expectEqual(dumpBefore, try ctx.cluster.normalisedDump(database), "the target after the refusals")
        #expect(ctx.dumpFiles() == [backup], "no safety backup was made")

        // A drill of the same backup loads in ordinary transactions, past the wall, and compares every table.
        let drill = try ctx.pgbackup(["drill", backup, "--json"], database: database,
                                     env: ["BACKUP_DRILL_DATABASE": CLITestContext.uniqueName("walldrill")],
                                     timeout: .seconds(600))
        #expect(drill.status == 0, "\(drill)")
        let drilled = try drill.jsonObject()
        #expect(drilled["passed"] as? Bool == true && drilled["compared"] as? Bool == true, "\(drill)")
        #expect((drilled["tables"] as? [String: Any])?.count == ManyTables.defaultCount, "every table counted")
        #expect((drilled["mismatches"] as? [Any])?.isEmpty == true, "\(drill)")
        DumpComparison.expectEqual(dumpBefore, try ctx.cluster.normalisedDump(database), "the database after the drill")

        // The computed setting is enough: the same restore (over a copy of the database) on a server started with it.
        let raised = try PostgresCluster.start(settings: ["max_locks_per_transaction": String(refused)])
        defer { raised.destroy() }
        try raised.createDatabase(database)
        try ManyTables.load(into: database, on: raised)
        try raised.psql("DROP TABLE t17; INSERT INTO t100 DEFAULT VALUES", database: database)
        let env = raised.environment(database: database)
        let restored = try ctx.pgbackup(["restore", backup, "--yes", "--json"], database: database, env: env,
                                        timeout: .seconds(600))
        #expect(restored.status == 0, "\(restored)")
        DumpComparison.expectEqual(dumpBefore, try raised.normalisedDump(database), "restored with the computed setting")
        #expect(try ManyTables.census(database, on: raised) == "4000 tables, 40 rows")

        // Calibration: the count is a safe upper estimate of the distinct lock tags a restore really holds.
        let fresh = CLITestContext.uniqueName("fresh")
        try raised.createDatabase(fresh)
        let held = try locksHeld(restoring: try ctx.cluster.dump(database), into: fresh, on: raised)
        #expect(held <= 3 * ManyTables.defaultCount + 64, "held \(held)")
        #expect(held >= 3 * ManyTables.defaultCount * 9 / 10, "held \(held): the count is wildly high")
    }

    @Test func anEncryptedBackupWithoutTheCountIsCountedWithTheRestoresIdentity() throws {
        let keys = try AgeKeyPair(in: ctx.scratch.appending("keys"))
        let database = try ctx.emptyDatabase("sealed")
        try ManyTables.load(into: database, on: ctx.cluster)
        let backup = try ctx.create(database, description: "4000 tables, encrypted", env: keys.encrypting)
        #expect(backup.hasSuffix(".age"))
        var sidecar = try ctx.sidecar(backup)
        #expect(JSON.int(sidecar["lockable_objects"]) == 3 * ManyTables.defaultCount)
        sidecar.removeValue(forKey: "lockable_objects")
        try JSON.write(sidecar, to: ctx.sidecarURL(backup))
        let dumpBefore = try ctx.cluster.normalisedDump(database)

        let identity = ["BACKUP_AGE_IDENTITY_FILE": keys.identityFile]
        _ = try refusal(backup, database: database, what: "encrypted, counted by the pre-pass", env: identity)
        DumpComparison.expectEqual(dumpBefore, try ctx.cluster.normalisedDump(database), "the target after the refusal")
        #expect(ctx.dumpFiles() == [backup], "no safety backup was made")
    }

    /// Runs a restore that must be refused for the lock wall, and returns the setting it computed.
    private func refusal(_ backup: String, database: String, what: String, env: [String: String] = [:]) throws -> Int {
        let result = try ctx.pgbackup(["restore", backup, "--yes", "--json"], database: database, env: env)
        #expect(result.status == 1, "\(what): \(result)")
        let answer = try result.jsonObject()
        #expect(answer["error"] as? String == "lock_capacity_exceeded", "\(what): \(result)")
        let text = answer["detail"] as? String ?? ""
        for part in ["max_locks_per_transaction=64", "max_connections=100", "restart", "Past the lock wall", "nothing was touched"] {
            #expect(text.contains(part), "\(what): '\(part)' missing in \(text)")
        }
        let setting = try #require(text.firstMatch(of: /max_locks_per_transaction = ([0-9]+)/).flatMap { Int($0.1) },
                                   "\(what): no computed setting in \(text)")
        #expect(setting > 64 && setting % 64 == 0, "\(what): \(setting)")
        let numbers = try #require(answer["lock_capacity"] as? [String: Any], "\(what): \(result)")
        #expect(JSON.int(numbers["required_max_locks_per_transaction"]) == setting)
        #expect(JSON.int(numbers["dump_objects"]) == 3 * ManyTables.defaultCount, "\(what): \(numbers)")
        let plain = try ctx.pgbackup(["restore", backup, "--yes"], database: database, env: env)
        #expect(plain.status == 1 && plain.err.contains("max_locks_per_transaction = \(setting)"), "\(what): \(plain)")
        return setting
    }

    /// The distinct lock tags a session holds right before COMMIT of `dump` restored in one transaction.
    private func locksHeld(restoring dump: String, into database: String, on cluster: PostgresCluster) throws -> Int {
        let script = "BEGIN;\n" + dump + """

            SELECT 'HELD ' || count(*) FROM (SELECT DISTINCT locktype, database, relation, page, tuple, virtualxid,
              transactionid, classid, objid, objsubid FROM pg_locks WHERE pid = pg_backend_pid()) l;
            ROLLBACK;

            """
        let result = try ProcessRunner.run(try ProcessRunner.tool("psql"),
                                           ["-X", "-At", "-q", "-v", "ON_ERROR_STOP=1", "-d", database, "-f", "-"],
                                           environment: libpq(cluster), stdin: Data(script.utf8), timeout: .seconds(300))
        let line = result.out.split(separator: "\n").first { $0.hasPrefix("HELD ") }
        return try #require(line.flatMap { Int($0.dropFirst(5)) }, "\(result)")
    }

    private func libpq(_ cluster: PostgresCluster) -> [String: String] {
        var env = RunningProcess.baseEnvironment(home: ctx.home.path)
        env["PGHOST"] = cluster.socketDir.path
        env["PGPORT"] = String(cluster.port)
        env["PGUSER"] = "postgres"
        return env
    }
}
