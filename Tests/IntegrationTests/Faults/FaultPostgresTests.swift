import Foundation
import TestSupport
import Testing

extension FaultSuite {
    /// The database server misbehaves: down before a run, stopped in the middle of a dump, or a table locked so
    /// pg_dump has to wait.
    @Suite("PostgreSQL down, stopped mid-dump, or locked", .serialized, .postgresCluster)
    final class PostgresFaultTests {
        let ctx: CLITestContext

        init() throws { ctx = try CLITestContext() }
        deinit { ctx.remove() }

        @Test func serverDownBeforeTheRunFailsEveryFrontEndLoudly() throws {
            let db = try ctx.sampleCopy("down")
            let older = try ctx.create(db, description: "while the server was up")
            let invariants = ctx.invariants(db)
            let before = try invariants.check()
            try ctx.cluster.stopImmediately()
            defer { try? ctx.cluster.start() }

            let create = try ctx.pgbackup(["create", "-d", "server down"], database: db)
            try ctx.expectFailedCreate(create, mentioning: ["cannot connect to the database"], database: db,
                                       listedBefore: [older])
            #expect(create.err.contains("POSTGRES_HOST"), "the hint should say what to check: \(create.err)")

            let scheduled = try ctx.scheduler(database: db)
            #expect(scheduled.status == 1, "the scheduler must fail so systemd marks the unit failed: \(scheduled)")
            #expect(scheduled.err.contains("cannot connect to the database"), "\(scheduled.err)")

            let restore = try ctx.pgbackup(["restore", older, "--yes"], database: db)
            #expect(restore.status == 1, "\(restore)")
            #expect(restore.err.contains("cannot connect to the database"), "\(restore.err)")
            #expect(ctx.dumpFiles() == [older], "no safety backup can have been made")
            try invariants.check(unchanged: before)

            try ctx.cluster.start()
            _ = try ctx.create(db, description: "server back")
            #expect(try ctx.status(db)["healthy"] as? Bool == true)
            try invariants.check(unchanged: before)
        }

        @Test func serverStoppedMidDumpFailsTheCreateAndLeavesNothing() throws {
            let db = try ctx.bulkCopy("middump")
            let invariants = ctx.invariants(db)
            let older = try ctx.create(db, description: "before the crash")
            let before = try invariants.check()

            let run = try ctx.startPgbackup(["create", "-d", "server crashes under it"], database: db)
            let flowing = Poll.until(timeout: 60, interval: 1_000) {
                !run.isRunning || (ctx.partialDumpSize() ?? 0) > 0
            }
            #expect(flowing && run.isRunning, "the dump never started writing")
            // Freeze pgbackup so pg_dump is surely still mid-COPY (blocked on the pipe) when the server dies.
            run.signal(SIGSTOP)
            let stopped = Result { try ctx.cluster.stopImmediately() }
            run.signal(SIGCONT)
            defer { try? ctx.cluster.start() }
            try stopped.get()

            let result = run.wait(timeout: .seconds(120))
            try ctx.expectFailedCreate(result, mentioning: ["server closed the connection", "terminating connection",
                                                            "connection to server", "lost synchronization"],
                                       database: db, listedBefore: [older])
            try invariants.check(unchanged: before)
            try ctx.cluster.start()
        }

        @Test func lockWaitTimeoutEndsAStuckDumpWithAClearError() throws {
            let db = try ctx.sampleCopy("locked")
            let older = try ctx.create(db, description: "before the lock")
            let invariants = ctx.invariants(db)
            let before = try invariants.check()
            let locker = try ctx.cluster.holdTableLock("orders", in: db, seconds: 120)
            defer { locker.release() }

            let started = Date()
            let result = try ctx.pgbackup(["create", "-d", "waits for a lock"], database: db,
                                          env: ["BACKUP_LOCK_WAIT_TIMEOUT": "2"], timeout: .seconds(60))
            let elapsed = Date().timeIntervalSince(started)
            #expect(!result.timedOut && elapsed < 30, "the create should give up after about 2 s, took \(elapsed) s")
            // pg_dump implements --lock-wait-timeout with a statement timeout on its LOCK TABLE.
            try ctx.expectFailedCreate(result, mentioning: ["statement timeout", "lock timeout"], database: db,
                                       listedBefore: [older])
            #expect(result.err.contains("LOCK TABLE public.orders"), "the message should name the locked table: \(result.err)")
            try invariants.check(unchanged: before)
        }
    }
}
