import Foundation
import TestSupport
import Testing

/// Notifications, healthcheck pings and the metrics textfile from the real binaries, with receivers on loopback.
@Suite("Scheduler and CLI: notifications, healthcheck pings, metrics textfile", .serialized, .postgresCluster)
final class SchedulerNotificationTests {
    let ctx: CLITestContext

    init() throws { ctx = try CLITestContext() }
    deinit { ctx.remove() }

    static let secret = "s3cret-pw"
    static let token = "t0ken-5f1c0e8e"

    /// A URL to `receiver` with credentials and a token in the path, as a real webhook or ping URL has.
    static func secretURL(_ receiver: HTTPReceiver) -> String {
        "http://hook:\(secret)@127.0.0.1:\(receiver.port)/ping/\(token)"
    }

    func scheduler(_ database: String, env extra: [String: String]) throws -> ProcessResult {
        try ProcessRunner.run(try Binaries.path("pgbackup-scheduler"), [],
                              environment: ctx.environment(database: database, extra: extra), timeout: .seconds(180))
    }

    func expectNoSecret(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!text.contains(Self.secret) && !text.contains(Self.token), "a secret leaked: \(text)",
                sourceLocation: sourceLocation)
    }

    @Test("a scheduled backup pings start then success, posts its success and its drill's with always, and writes the textfile")
    func successfulRun() throws {
        let db = try ctx.sampleDatabase("notify_ok")
        let hooks = try HTTPReceiver(.ok, in: ctx.scratch)
        let pings = try HTTPReceiver(.ok, in: ctx.scratch)
        let textfile = ctx.scratch.file("pgbackup.prom")
        let result = try scheduler(db, env: [
            "BACKUP_NOTIFY_URL": Self.secretURL(hooks), "BACKUP_NOTIFY_ON": "always",
            "BACKUP_HEALTHCHECK_URL": Self.secretURL(pings), "BACKUP_METRICS_TEXTFILE": textfile,
        ])
        #expect(result.status == 0, "\(result)")
        expectNoSecret(result.combined)
        #expect(pings.waitFor(2).map(\.path) == ["/ping/\(Self.token)/start", "/ping/\(Self.token)"])
        // The first run drills its backup too (BACKUP_DRILL_INTERVAL_HOURS defaults to 168 and none was drilled).
        let events = try hooks.waitFor(2).map { try JSON.object(Data($0.body.utf8)) }
        #expect(events.map { $0["event"] as? String } == ["create.success", "drill.success"])
        let event = try #require(events.first)
        #expect(event["database"] as? String == db)
        #expect((event["backup"] as? String)?.hasPrefix("backup_\(db)_") == true)
        for field in ["message", "host", "time"] { #expect(event[field] is String, "\(field) in \(event)") }

        var info = stat()
        #expect(stat(textfile, &info) == 0 && info.st_mode & 0o777 == 0o644)
        let text = try String(contentsOfFile: textfile, encoding: .utf8)
        #expect(text.contains("pgbackup_backups{database=\"\(db)\"} 1"), "\(text)")
        #expect(text.contains("pgbackup_last_drill_passed{backup=\"backup_\(db)_"), "\(text)")
        let promtool = try ProcessRunner.run(try ProcessRunner.tool("promtool"), ["check", "metrics"], stdin: Data(text.utf8))
        #expect(promtool.status == 0, "\(promtool)")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: ctx.scratch.path).filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty)
    }

    @Test("a failed scheduled backup pings start then fail, posts the failure, and still writes the textfile")
    func failedRun() throws {
        let db = try ctx.sampleDatabase("notify_fail")
        let hooks = try HTTPReceiver(.ok, in: ctx.scratch)
        let pings = try HTTPReceiver(.ok, in: ctx.scratch)
        let textfile = ctx.scratch.file("failed.prom")
        let env = ["BACKUP_NOTIFY_URL": Self.secretURL(hooks), "BACKUP_HEALTHCHECK_URL": Self.secretURL(pings),
                   "BACKUP_METRICS_TEXTFILE": textfile, "POSTGRES_PORT": "1"]
        let result = try scheduler(db, env: env)
        #expect(result.status != 0, "\(result)")
        expectNoSecret(result.combined)
        let received = pings.waitFor(2)
        #expect(received.map(\.path) == ["/ping/\(Self.token)/start", "/ping/\(Self.token)/fail"])
        #expect(received.last?.body.contains("scheduled backup failed") == true, "\(received)")
        let events = try hooks.waitFor(1).map { try JSON.object(Data($0.body.utf8)) }
        #expect(events.map { $0["event"] as? String } == ["create.failure"])
        #expect((events.first?["message"] as? String)?.isEmpty == false)
        let text = try String(contentsOfFile: textfile, encoding: .utf8)
        #expect(text.contains("pgbackup_last_failure_timestamp_seconds{operation=\"create\"}"), "\(text)")
        #expect(text.contains("pgbackup_healthy 0"), "\(text)")

        let check = try ctx.pgbackup(["status", "--check"], database: db, env: env)
        #expect(check.status == 1, "\(check)")
        #expect(check.out.contains("The last create failed at"), "\(check.out)")
        #expect(check.out.split(separator: "\n").count == (try ctx.status(db, env: env)["unhealthy_reasons"] as? [Any])?.count)
    }

    @Test("a receiver that never answers delays a create by at most the timeout; status shows it, redacted")
    func hangingReceiver() throws {
        let db = try ctx.sampleDatabase("notify_hang")
        let quick = Date()
        #expect(try ctx.pgbackup(["create"], database: db).status == 0)
        let without = Date().timeIntervalSince(quick)

        let hang = try HTTPReceiver(.hang, in: ctx.scratch)
        let env = ["BACKUP_NOTIFY_URL": Self.secretURL(hang), "BACKUP_NOTIFY_ON": "always"]
        let slow = Date()
        let result = try ctx.pgbackup(["create"], database: db, env: env)
        let with = Date().timeIntervalSince(slow)
        #expect(result.status == 0, "\(result)")
        #expect(with - without < 6, "create took \(with) s with a hanging receiver, \(without) s without")
        #expect(hang.received().count == 1)
        expectNoSecret(result.combined)

        let status = try ctx.status(db, env: env)
        let error = try #require(status["last_notification_error"] as? [String: Any], "\(status)")
        #expect((error["message"] as? String)?.contains("no answer within 5 s") == true, "\(error)")
        expectNoSecret(try ctx.pgbackup(["status", "--json"], database: db, env: env).combined)
        expectNoSecret(try ctx.pgbackup(["status"], database: db, env: env).combined)
        let check = try ctx.pgbackup(["status", "--check"], database: db, env: env)
        #expect(check.status == 0 && check.out == "healthy\n", "\(check)")
    }

    @Test("a create stopped by SIGTERM still gets its failure out (curl is not stopped with the dump)")
    func interruptedCreateNotifies() throws {
        let db = try ctx.sampleDatabase("notify_term")
        let hooks = try HTTPReceiver(.ok, in: ctx.scratch)
        let tableLock = try ctx.cluster.holdTableLock("orders", in: db, seconds: 300)
        defer { tableLock.release() }
        let run = try ctx.startPgbackup(["create"], database: db, env: ["BACKUP_NOTIFY_URL": Self.secretURL(hooks)])
        // The dump itself, not any temporary file the run writes there before the create starts.
        #expect(Poll.until(timeout: 30) { ctx.partialDumpSize() != nil || !run.isRunning }, "pg_dump never started")
        run.signal(SIGTERM)
        let result = run.wait(timeout: .seconds(30))
        #expect(result.status == 128 + SIGTERM, "\(result)")
        let events = try hooks.waitFor(1, timeout: 5).map { try JSON.object(Data($0.body.utf8)) }
        #expect(events.map { $0["event"] as? String } == ["create.failure"], "\(result)")
        #expect((events.first?["message"] as? String)?.contains("interrupted by SIGTERM") == true, "\(events)")
        expectNoSecret(result.combined)
    }
}
