import BackupAPI
@testable import BackupCore
import Foundation
import Logging
import TestSupport
import Testing

/// `GET /api/backups/metrics` through the router, and the notifications `recordFailure`/`recordSuccess` send.
@Suite("Metrics route and notifications")
struct MetricsRouteTests {
    /// Every sample line, `name{labels}` → value.
    static func samples(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " ") else { continue }
            result[String(line[..<space])] = String(line[line.index(after: space)...])
        }
        return result
    }

    @Test("metrics: text format 0.0.4, values from the directory and the run state, accepted by promtool")
    func metricsMatchTheDirectory() throws {
        let fixture = try RouterFixture()
        let newest = try fixture.makeBackup(ageHours: 1)
        try fixture.makeBackup(ageHours: 5)
        // A database name that needs every escape (the sidecar's, which names the label; file names cannot hold it).
        var other = try fixture.makeBackup(database: "other", ageHours: 2, recordChecksum: false)
        other.database = "we\"ird\\db\nname"
        try fixture.writeSidecar(other)
        try Data("junk".utf8).write(to: URL(fileURLWithPath: fixture.path("backup_appdb_20260101_000000.sql.gz")))
        fixture.manager.recordSuccess(operation: "create", at: newest.createdAt)
        fixture.manager.recordFailure(operation: "restore", error: BackupError.invalidConfiguration(
            variable: "X", value: "y", reason: "test"))

        let response = fixture.handle("GET", "/api/backups/metrics", user: "bob")
        #expect(response.status == 200)
        #expect(response.headers.contains { $0 == ("Content-Type", "text/plain; version=0.0.4; charset=utf-8") })
        let text = String(decoding: response.bodyBytes, as: UTF8.self)
        let samples = Self.samples(text)
        let status = try fixture.manager.status()
        #expect(samples["pgbackup_backups{database=\"appdb\"}"] == "2")
        #expect(samples[#"pgbackup_backups{database="we\"ird\\db\nname"}"#] == "1")
        let appBytes = Int64(status.summary.totalSizeBytes) - other.sizeBytes
        #expect(samples["pgbackup_backups_size_bytes{database=\"appdb\"}"] == String(appBytes))
        #expect(samples["pgbackup_last_backup_size_bytes{database=\"appdb\"}"] == String(newest.sizeBytes))
        #expect(samples["pgbackup_last_backup_duration_seconds{database=\"appdb\"}"] == "0.5")
        #expect(samples[#"pgbackup_last_backup_duration_seconds{database="we\"ird\\db\nname"}"#] == nil)
        #expect(samples["pgbackup_last_backup_timestamp_seconds{database=\"appdb\"}"]
                == MetricsText.format(newest.createdAt.timeIntervalSince1970))
        #expect(samples["pgbackup_last_success_timestamp_seconds{operation=\"create\"}"]
                == MetricsText.format(newest.createdAt.timeIntervalSince1970))
        #expect(samples["pgbackup_last_failure_timestamp_seconds{operation=\"restore\"}"]
                == MetricsText.format(RouterFixture.now.timeIntervalSince1970))
        #expect(samples["pgbackup_orphans"] == String(status.summary.orphans.count))
        #expect(samples["pgbackup_orphans"] == "1")
        #expect(samples["pgbackup_damaged_entries"] == "0")
        #expect(samples["pgbackup_healthy"] == (status.healthy ? "1" : "0"))
        #expect(samples["pgbackup_unhealthy_reasons"] == String(status.unhealthyReasons.count))
        #expect(samples["pgbackup_operation_running"] == "0")
        let promtool = try ProcessRunner.run(try #require(ProcessRunner.which("promtool")), ["check", "metrics"],
                                             stdin: Data(text.utf8))
        #expect(promtool.status == 0, "\(promtool)\n\(text)")
        #expect(fixture.handle("HEAD", "/api/backups/metrics").status == 200)
        #expect(fixture.handle("POST", "/api/backups/metrics").status == 405)
    }

    @Test("a fresh install (no backup directory yet) scrapes cleanly: every family declared, promtool satisfied")
    func freshInstall() throws {
        let fixture = try RouterFixture()
        try FileManager.default.removeItem(atPath: fixture.directory)
        let response = fixture.handle("GET", "/api/backups/metrics", user: "bob")
        #expect(response.status == 200)
        let text = String(decoding: response.bodyBytes, as: UTF8.self)
        #expect(text.components(separatedBy: "# TYPE ").count - 1 == 21, "\(text)")
        #expect(Self.samples(text)["pgbackup_healthy"] == "0")
        let promtool = try ProcessRunner.run(try #require(ProcessRunner.which("promtool")), ["check", "metrics"],
                                             stdin: Data(text.utf8))
        #expect(promtool.status == 0, "\(promtool)\n\(text)")
        #expect(!FileManager.default.fileExists(atPath: fixture.directory), "a scrape must not create BACKUP_DIR")
    }

    @Test("a running operation shows in the metrics")
    func runningOperation() throws {
        let fixture = try RouterFixture()
        let fd = try fixture.holdLock(operation: "create")
        defer { close(fd) }
        let samples = Self.samples(String(decoding: fixture.handle("GET", "/api/backups/metrics").bodyBytes, as: UTF8.self))
        #expect(samples["pgbackup_operation_running"] == "1")
        #expect(samples["pgbackup_operation_started_timestamp_seconds{operation=\"create\"}"] != nil)
    }

    @Test("a failure is posted; a success only with BACKUP_NOTIFY_ON=always; a refused request never",
          arguments: [Configuration.Monitoring.NotifyOn.failure, .always])
    func notifications(on: Configuration.Monitoring.NotifyOn) throws {
        let fixture = try RouterFixture()
        let recorder = RecordingTransport()
        let manager = fixture.managerWith(monitoring: .init(notifyURL: "https://u:p@hooks.example.com/t", notifyOn: on),
                                          transport: recorder)
        manager.recordFailure(operation: "create", error: BackupError.invalidConfiguration(variable: "X", value: "y", reason: "z"))
        manager.recordSuccess(operation: "restore", backup: "backup_appdb_20260528_200000.sql.gz")
        manager.recordFailure(operation: "create", error: BackupError.operationInProgress(nil))
        let sent = recorder.sent
        #expect(sent.count == (on == .always ? 2 : 1))
        let event = try JSON.parse(try #require(sent.first).body)
        #expect(event["event"]?.stringValue == "create.failure")
        #expect(event["database"]?.stringValue == "appdb")
        #expect(event["backup"]?.isNull == true)
        #expect(event["message"]?.stringValue?.contains("X") == true)
        #expect(event["host"]?.stringValue == NotificationEvent.localHost)
        #expect(event["time"]?.stringValue == Timestamp.iso8601(RouterFixture.now))
        if on == .always {
            let success = try JSON.parse(sent[1].body)
            #expect(success["event"]?.stringValue == "restore.success")
            #expect(success["backup"]?.stringValue == "backup_appdb_20260528_200000.sql.gz")
        }
        #expect(try manager.status().state.lastNotificationError == nil)
    }

    @Test("an undelivered notification is logged and shown in status, without the URL's secrets; a later delivery clears it")
    func notificationFailureInStatus() throws {
        let fixture = try RouterFixture()
        let recorder = RecordingTransport(failing: true)
        var manager = fixture.managerWith(monitoring: .init(notifyURL: "https://u:p4ss@hooks.example.com/t0ken"),
                                          transport: recorder)
        manager.recordFailure(operation: "create", error: BackupError.invalidConfiguration(variable: "X", value: "y", reason: "z"))
        let status = try manager.status()
        let error = try #require(status.state.lastNotificationError)
        #expect(error.operation == "create.failure")
        #expect(error.message == "notification to https://hooks.example.com failed: connection refused")
        let json = status.json.serialized()
        #expect(json.contains("last_notification_error") && !json.contains("p4ss") && !json.contains("t0ken"))
        let samples = Self.samples(try manager.metrics().text)
        #expect(samples["pgbackup_last_notification_failure_timestamp_seconds"] != nil)

        manager.notificationTransport = RecordingTransport()
        manager.recordFailure(operation: "create", error: BackupError.invalidConfiguration(variable: "X", value: "y", reason: "z"))
        #expect(try manager.status().state.lastNotificationError == nil)
    }
}

/// Counts what would be posted; fails every post when asked to.
final class RecordingTransport: NotificationTransport, @unchecked Sendable {
    struct Post { var url: String; var body: [UInt8]; var contentType: String? }
    private let lock = NSLock()
    private var posts: [Post] = []
    let failing: Bool

    init(failing: Bool = false) { self.failing = failing }

    var sent: [Post] { lock.withLock { posts } }

    func post(url: String, body: [UInt8], contentType: String?) throws {
        lock.withLock { posts.append(Post(url: url, body: body, contentType: contentType)) }
        if failing { throw NotificationError(url: url, reason: "connection refused") }
    }
}

extension RouterFixture {
    /// The fixture's manager with other monitoring settings and a transport of the test's.
    func managerWith(monitoring: Configuration.Monitoring, transport: any NotificationTransport) -> BackupManager {
        var configuration = manager.configuration
        configuration.monitoring = monitoring
        var copy = BackupManager(configuration: configuration,
                                 logger: Logger(label: "router-test", factory: { _ in SwiftLogNoOpLogHandler() }),
                                 clock: FixedTimeSource(Self.now), environment: ["PATH": "/usr/bin:/bin"])
        copy.notificationTransport = transport
        return copy
    }
}
