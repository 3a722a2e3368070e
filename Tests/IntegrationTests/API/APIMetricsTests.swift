import Foundation
import TestSupport
import Testing

/// `GET /api/backups/metrics` as Prometheus scrapes it: through nginx, TLS and basic auth, checked by promtool,
/// its values compared with status's.
@Suite("API through nginx: metrics", .serialized, .postgresCluster)
final class APIMetricsTests {
    let cluster: PostgresCluster

    init() throws { cluster = try SharedCluster.require() }

    @Test("a reader scrapes the metrics over https; promtool accepts them; they agree with status")
    func scrapeThroughNginx() throws {
        let database = CLITestContext.uniqueName("metrics")
        try cluster.createDatabase(database)
        try SampleSchema.load(into: database, on: cluster)
        let stack = try NginxStack(cluster: cluster, database: database)
        defer { stack.stop() }
        let created = try stack.post("/api/backups", json: #"{"description": "for the metrics"}"#)
        #expect(created.status == 201, "\(created)")

        let response = try stack.request("GET", "/api/backups/metrics", credentials: .reader)
        #expect(response.status == 200, "\(response)")
        #expect(response.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
        let text = response.text
        let promtool = try ProcessRunner.run(try ProcessRunner.tool("promtool"), ["check", "metrics"],
                                             stdin: Data(text.utf8))
        #expect(promtool.status == 0, "\(promtool)\n\(text)")

        let status = try stack.get("/api/backups/status").object()
        let samples = Self.samples(text)
        #expect(samples["pgbackup_backups{database=\"\(database)\"}"] == "\(status["total_backups"] ?? "")")
        #expect(samples["pgbackup_backups_size_bytes{database=\"\(database)\"}"] == "\(status["total_size_bytes"] ?? "")")
        #expect(samples["pgbackup_healthy"] == ((status["healthy"] as? Bool) == true ? "1" : "0"))
        #expect(samples["pgbackup_orphans"] == "\((status["orphans"] as? [Any])?.count ?? -1)")
        #expect(samples["pgbackup_damaged_entries"] == "\((status["damaged"] as? [Any])?.count ?? -1)")
        let last = try #require(status["last_backup"] as? [String: Any])
        let createdAt = try #require((last["created_at"] as? String).flatMap(Self.parseDate))
        let scraped = try #require(samples["pgbackup_last_backup_timestamp_seconds{database=\"\(database)\"}"].flatMap(Double.init))
        #expect(abs(scraped - createdAt.timeIntervalSince1970) < 0.001)
        #expect(samples["pgbackup_last_success_timestamp_seconds{operation=\"create\"}"] != nil)
        #expect(samples["pgbackup_operation_running"] == "0")

        let anonymous = try stack.request("GET", "/api/backups/metrics", credentials: .none)
        #expect(anonymous.status == 401)
    }

    static func samples(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " ") else { continue }
            result[String(line[..<space])] = String(line[line.index(after: space)...])
        }
        return result
    }

    static func parseDate(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }
}
