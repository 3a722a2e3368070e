import Foundation
import TestSupport
import Testing

/// Long operations against a database big enough that a backup takes seconds: the responder keeps answering
/// while one runs, and a detached job outlives the responder that started it.
@Suite("API through nginx: long backups, concurrency and detached jobs", .serialized, .postgresCluster)
final class APIConcurrencyTests {
    let cluster: PostgresCluster

    init() throws { cluster = try SharedCluster.require() }

    @Test("list and status answer 200 while a long synchronous backup runs; a second create is 409")
    func readsDuringALongBackup() throws {
        let db = try BigDatabase.name(on: cluster)
        let stack = try NginxStack(cluster: cluster, database: db)
        defer { stack.stop() }

        let create = try stack.startRequest("POST", "/api/backups", body: Data(#"{"description": "long"}"#.utf8))
        let running = try waitUntilRunning(stack, operation: "create", while: create)

        // Each status answered with `running` set was produced while the backup held the lock; a list between
        // two such answers was too.
        var statusesWhileRunning = 0
        var listsBetweenRunningStatuses = 0
        var listPending = false
        var slowest: TimeInterval = 0
        for round in 0..<8 {
            let started = Date()
            let status = try stack.get("/api/backups/status")
            slowest = max(slowest, Date().timeIntervalSince(started))
            #expect(status.status == 200, "round \(round): \(status)")
            let isRunning = (try status.object()["running"] as? [String: Any])?["operation"] as? String == "create"
            if isRunning {
                statusesWhileRunning += 1
                if listPending { listsBetweenRunningStatuses += 1 }
            }
            guard isRunning, create.isRunning else { break }
            let listStarted = Date()
            let list = try stack.get("/api/backups")
            slowest = max(slowest, Date().timeIntervalSince(listStarted))
            #expect(list.status == 200, "round \(round): \(list)")
            #expect(try list.array().isEmpty, "the running backup is not listed before it is committed")
            listPending = true
        }
        #expect(statusesWhileRunning >= 2, "the backup ended before the reads could overlap it")
        #expect(listsBetweenRunningStatuses >= 1)
        #expect(running["pid"] != nil)

        if create.isRunning {
            let second = try stack.post("/api/backups", json: #"{"description": "second"}"#)
            expectAPIError(second, 409, "operation_in_progress", "a create while a create runs")
            let holder = try second.object()["running"] as? [String: Any]
            #expect(holder?["operation"] as? String == "create")
        }

        let response = try create.finish()
        #expect(response.status == 201, "\(response)")
        let backup = try #require(try response.object()["backup"] as? [String: Any])
        #expect(JSON.int(backup["uncompressed_bytes"]).map { $0 > BigDatabase.minimumDumpBytes } == true,
                "the dump was smaller than planned: \(backup["uncompressed_bytes"] ?? "none") bytes")
        let duration = JSON.double(backup["duration_seconds"]) ?? 0
        // The reads took a fraction of the backup's time: they never waited for it.
        #expect(slowest < max(2, duration / 2), "slowest read \(slowest) s, backup \(duration) s")
    }

    @Test("an async create survives SIGKILL of the responder: restarted, it reports the job succeeded")
    func jobSurvivesTheResponder() throws {
        let db = try BigDatabase.name(on: cluster)
        let stack = try NginxStack(cluster: cluster, database: db)
        defer { stack.stop() }

        let accepted = try stack.post("/api/backups", json: #"{"description": "outlives its responder"}"#,
                                      headers: ["Prefer: respond-async"])
        #expect(accepted.status == 202, "\(accepted)")
        let location = try #require(accepted.header("Location"))

        // Wait until the job's own process is dumping.
        var job: [String: Any] = [:]
        let deadline = Date().addingTimeInterval(120)
        repeat {
            job = try stack.get(location).object()
            let bytes = JSON.int((job["progress"] as? [String: Any])?["bytes"]) ?? 0
            if job["state"] as? String == "running" && bytes > 0 { break }
            try #require(["queued", "running"].contains(job["state"] as? String ?? ""), "job ended early: \(job)")
            usleep(100_000)
        } while Date() < deadline
        let jobPID = try #require(JSON.int(job["pid"]), "\(job)")
        let responderPID = try #require(stack.responder?.pid)
        #expect(pid_t(jobPID) != responderPID, "the job runs in its own process")

        let killed = try #require(stack.stopResponder(signal: SIGKILL))
        #expect(killed.signal == SIGKILL)
        #expect(kill(pid_t(jobPID), 0) == 0, "the job died with the responder")

        // With no responder nginx answers for it, in the API's error shape.
        let down = try stack.get("/api/backups/status")
        expectAPIError(down, 502, "responder_unavailable", "status while the responder is down")

        try stack.startResponder()
        let finished = try stack.waitForJob(location)
        #expect(finished["state"] as? String == "succeeded", "\(finished)")
        #expect(JSON.int(finished["pid"]) == jobPID)
        let name = try #require(((finished["result"] as? [String: Any])?["backup"] as? [String: Any])?["filename"] as? String)
        let verify = try stack.post("/api/backups/\(name)/verify")
        #expect(verify.status == 200, "\(verify)")
        #expect(try stack.get("/api/backups").array().map { $0["filename"] as? String } == [name])
        let status = try stack.get("/api/backups/status").object()
        #expect(status["running"] is NSNull)
        #expect(status["orphans"] as? [String] == [])
    }

    /// Polls status until `operation` holds the lock; fails if `request` ends first.
    func waitUntilRunning(_ stack: NginxStack, operation: String, while request: PendingRequest) throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            if let running = try stack.get("/api/backups/status").object()["running"] as? [String: Any],
               running["operation"] as? String == operation {
                return running
            }
            guard request.isRunning else {
                throw HarnessError.setup("\(request.label) finished before it was seen running: \(try request.finish())")
            }
            usleep(50_000)
        }
        throw HarnessError.setup("\(operation) never showed up as running")
    }
}

/// One database per cluster whose dump is about 75 MB of incompressible-ish text: big enough that a backup
/// takes seconds on any machine, small enough to generate in a few.
enum BigDatabase {
    static let rows = 1_000_000
    static let minimumDumpBytes = 60_000_000
    private static let lock = NSLock()
    nonisolated(unsafe) private static var made: [ObjectIdentifier: String] = [:]

    static func name(on cluster: PostgresCluster) throws -> String {
        lock.lock()
        defer { lock.unlock() }
        if let name = made[ObjectIdentifier(cluster)] { return name }
        let name = CLITestContext.uniqueName("big")
        try cluster.createDatabase(name)
        // UNLOGGED: no WAL while loading; pg_dump still dumps the rows.
        try cluster.psql("""
            CREATE UNLOGGED TABLE big AS
                SELECT g AS id, md5(g::text) || md5((g::bigint * 7919)::text) AS payload FROM generate_series(1, \(rows)) g;
            CREATE TABLE canary (id int PRIMARY KEY, value text NOT NULL);
            INSERT INTO canary VALUES (1, 'big canary');
            """, database: name)
        made[ObjectIdentifier(cluster)] = name
        return name
    }
}
