import Foundation
import TestSupport
import Testing

extension FaultSuite {
    /// Async jobs when a process dies: the responder killed mid-job (the job lives on and finishes), or the job's
    /// own process killed (the job reads as failed, and nothing half-made is left listed).
    @Suite("async jobs and dying processes", .serialized, .postgresCluster)
    final class JobTests {
        let ctx: CLITestContext

        init() throws { ctx = try CLITestContext() }
        deinit { ctx.remove() }

        private func startJob(_ stack: FaultHTTPStack, description: String) throws -> (location: String, pid: pid_t) {
            let reply = try stack.request("POST", "/api/backups", json: #"{"description": "\#(description)"}"#,
                                          headers: ["Prefer: respond-async"])
            #expect(reply.status == 202, "\(reply)")
            let location = try #require(reply.header("location"), "\(reply)")
            #expect(location.hasPrefix("/api/backups/jobs/"))
            let job = try #require(try reply.json()["job"] as? [String: Any])
            let pid = try #require(JSON.int(job["pid"]), "the job's pid: \(job)")
            return (location, pid_t(pid))
        }

        private func finalState(_ stack: FaultHTTPStack, _ location: String) throws -> [String: Any] {
            var job: [String: Any] = [:]
            try Poll.until(timeout: 120, interval: 100_000) {
                job = try stack.request("GET", location).json()
                return job["state"] as? String == "succeeded" || job["state"] as? String == "failed"
            }
            return job
        }

        @Test func responderKilledDuringAnAsyncJobTheJobStillFinishes() throws {
            let db = try ctx.bulkCopy("jobsurvive")
            let stack = try FaultHTTPStack(environment: ctx.environment(database: db))
            defer { stack.stop() }
            let invariants = ctx.invariants(db)
            let older = try ctx.create(db, description: "before")
            let before = try invariants.check()
            // The job's pg_dump waits for this lock, so the job is surely mid-way when the responder dies.
            let locker = try ctx.cluster.holdTableLock("bulk", in: db, seconds: 3)
            defer { locker.release() }

            let (location, jobPID) = try startJob(stack, description: "outlives the responder")
            #expect(Poll.until(timeout: 30) { !FaultProc.postgresClients("pg_dump", database: db).isEmpty },
                    "the job never started pg_dump")
            let killed = stack.stopResponder(signal: SIGKILL)
            #expect(killed?.signal == SIGKILL)
            #expect(ProcessTable.isAlive(jobPID), "the job must not die with the responder")

            // While no responder runs, nginx answers with a clear error.
            let down = try stack.request("GET", location)
            #expect(down.status == 502, "\(down)")
            #expect(try down.json()["error"] as? String == "responder_unavailable")

            #expect(Poll.until(timeout: 120, interval: 50_000) { !ProcessTable.isAlive(jobPID) }, "the job never ended")
            try stack.startResponder()
            let job = try finalState(stack, location)
            #expect(job["state"] as? String == "succeeded", "\(job)")
            let result = job["result"] as? [String: Any]
            let made = (result?["backup"] as? [String: Any])?["filename"] as? String
            let after = try invariants.check(unchanged: before)
            #expect(Set(after.keys) == Set([older, made ?? "?"]), "listed \(after.keys.sorted()), job made \(made ?? "nil")")
        }

        @Test func jobsAndRequestsFailLoudlyWhenTheDatabaseIsUnreachable() throws {
            let db = try ctx.sampleCopy("jobdown")
            let older = try ctx.create(db, description: "before")
            let invariants = ctx.invariants(db)
            let before = try invariants.check()
            let stack = try FaultHTTPStack(environment: ctx.environment(database: db, extra: ["POSTGRES_PORT": "1"]))
            defer { stack.stop() }

            let sync = try stack.request("POST", "/api/backups", json: #"{"description": "server unreachable"}"#)
            #expect(sync.status == 503, "\(sync)")
            #expect(try sync.json()["error"] as? String == "database_unreachable")
            #expect((try sync.json()["detail"] as? String)?.contains("cannot connect to the database") == true, "\(sync)")

            let (location, _) = try startJob(stack, description: "async, server unreachable")
            let job = try finalState(stack, location)
            #expect(job["state"] as? String == "failed", "\(job)")
            #expect((job["error"] as? [String: Any])?["error"] as? String == "database_unreachable", "\(job)")

            let status = try stack.request("GET", "/api/backups/status").json()
            let failure = status["last_failure"] as? [String: Any]
            #expect(failure?["operation"] as? String == "create", "\(status)")
            #expect((failure?["message"] as? String)?.contains("cannot connect") == true, "\(status)")
            #expect(status["healthy"] as? Bool == false)
            #expect(try ctx.listedNames(db) == [older])
            try invariants.check(unchanged: before)
        }

        @Test func jobProcessKilledReadsAsFailedAndLeavesNothingListed() throws {
            var random = FaultRandom(seed: 0x10B_D1E5)
            let db = try ctx.bulkCopy("jobkilled")
            let stack = try FaultHTTPStack(environment: ctx.environment(database: db))
            defer { stack.stop() }
            let invariants = ctx.invariants(db)
            let older = try ctx.create(db, description: "before")
            let before = try invariants.check()
            let target = Int.random(in: 1...((try FileTools.size(ctx.backupURL(older))) * 40 / 100), using: &random)

            let (location, jobPID) = try startJob(stack, description: "killed mid-dump")
            let reached = Poll.until(timeout: 120, interval: 500) {
                !ProcessTable.isAlive(jobPID) || (ctx.partialDumpSize() ?? 0) >= target
            }
            #expect(reached && ProcessTable.isAlive(jobPID), "the job ended before its file reached \(target) bytes")
            let dumps = FaultProc.postgresClients("pg_dump", database: db)
            kill(jobPID, SIGKILL)

            let job = try finalState(stack, location)
            #expect(job["state"] as? String == "failed", "a job whose process died must read as failed: \(job)")
            let error = job["error"] as? [String: Any]
            #expect((error?["detail"] as? String)?.contains("ended before finishing") == true, "\(job)")
            for dump in dumps {
                #expect(Poll.until(timeout: 20) { !ProcessTable.isAlive(dump) }, "pg_dump outlived its job")
            }
            FaultProc.killLeftovers("pg_dump", database: db)
            #expect(try ctx.listedNames(db) == [older])
            try invariants.check(unchanged: before)

            // The killed job's partial file, and an orphan dump without a sidecar, are neither downloadable nor
            // restorable under any name.
            let partial = try #require(ctx.partialFiles().first { $0.hasSuffix(".sql.gz") }, "no stale partial left")
            let orphan = "backup_\(db)_20200101_000000.sql.gz"
            try FileManager.default.copyItem(at: ctx.backupURL(older), to: ctx.backupURL(orphan))
            defer { try? FileManager.default.removeItem(at: ctx.backupURL(orphan)) }
            for name in [partial, orphan] {
                for path in ["/api/backups/download/\(name)", "/api/backups/\(name)"] {
                    let reply = try stack.request("GET", path)
                    #expect([404, 422].contains(reply.status), "GET \(path): \(reply)")
                    #expect(try reply.json()["success"] as? Bool == false)
                }
            }
            #expect(ctx.partialFiles().contains(partial), "read-only requests must leave .partial alone")
            // A restore is a mutating request: refused for both, and it sweeps the stale partial away.
            for name in [partial, orphan] {
                let reply = try stack.request("POST", "/api/backups/restore", json: #"{"backup_filename": "\#(name)"}"#)
                #expect([404, 422].contains(reply.status), "restore \(name): \(reply)")
                #expect(try reply.json()["success"] as? Bool == false)
            }
            #expect(ctx.partialFiles().isEmpty, "the next mutating request must remove stale partials: \(ctx.partialFiles())")
            try FileManager.default.removeItem(at: ctx.backupURL(orphan))
            try invariants.check(unchanged: before)
        }
    }
}
