import Foundation
import TestSupport
import Testing

/// Off-site copies through the API as a client meets it: nginx (TLS, basic auth) → pgbackup-fcgi → PostgreSQL, and
/// moto's S3 API (signatures checked) behind rclone. Create uploads; a broken remote leaves the backup pending while
/// the create still succeeds; push uploads it; a wiped BACKUP_DIR is refilled by sync; a remote-only backup is
/// restored and the data is the source's. No answer carries a secret.
@Suite("Off-site through nginx: create, outage, push, sync, restore from the remote", .serialized, .postgresCluster,
       .enabled(if: MotoServer.isInstalled && ProcessRunner.which("rclone") != nil))
final class OffsiteAPITests {
    let cluster: PostgresCluster

    init() throws { cluster = try SharedCluster.require() }

    /// Every answer body, for the final look for secrets.
    private var bodies: [(String, String)] = []

    private func record(_ label: String, _ response: HTTPResponse) -> HTTPResponse {
        bodies.append((label, String(decoding: response.body, as: UTF8.self)))
        return response
    }

    private func list(_ stack: NginxStack) throws -> [String: [String]] {
        let response = record("list", try stack.get("/api/backups"))
        try #require(response.status == 200, "\(response)")
        var locations: [String: [String]] = [:]
        for entry in try response.array() {
            if let name = entry["filename"] as? String { locations[name] = entry["locations"] as? [String] ?? [] }
        }
        return locations
    }

    private func remoteStatus(_ stack: NginxStack) throws -> (status: [String: Any], remote: [String: Any]) {
        let response = record("status", try stack.get("/api/backups/status"))
        try #require(response.status == 200, "\(response)")
        let status = try response.object()
        return (status, try #require(status["remote"] as? [String: Any], "\(status)"))
    }

    private func create(_ stack: NginxStack, _ description: String) throws -> String {
        let created = record("create", try stack.post("/api/backups", json: #"{"description": "\#(description)"}"#))
        try #require(created.status == 201, "\(created)")
        return try #require((try created.object()["backup"] as? [String: Any])?["filename"] as? String)
    }

    @Test func theWholeOffsiteLifeThroughTheAPI() throws {
        let remoteScratch = try TemporaryDirectory(prefix: "offsite-api")
        defer { remoteScratch.remove() }
        let remote = try OffsiteFixture(.s3, in: remoteScratch)
        defer { remote.stop() }
        let db = CLITestContext.uniqueName("offapi")
        try cluster.createDatabase(db)
        try SampleSchema.load(into: db, on: cluster)
        let stack = try NginxStack(cluster: cluster, database: db, settings: remote.environment)
        defer { stack.stop() }
        let factsBefore = try DatabaseFacts.read(db, on: cluster)
        let dumpBefore = try cluster.normalisedDump(db)

        // Create: the backup is uploaded before the answer, and listed in both places.
        let first = try create(stack, "off-site through the API")
        #expect(try remote.names() == [first, first + ".json"])
        #expect(try list(stack)[first] == ["local", "remote"])

        // The remote is down: the create still succeeds; the backup is pending and status says why.
        try remote.breakEndpoint()
        let second = try create(stack, "made while the remote is down")
        #expect(!(try remote.names()).contains(second), "nothing half-uploaded is visible as a backup")
        #expect(try list(stack)[second] == ["local"])
        let (down, downRemote) = try remoteStatus(stack)
        #expect((downRemote["pending_uploads"] as? [[String: Any]])?.compactMap { $0["filename"] as? String } == [second])
        let uploadError = try #require(downRemote["last_upload_error"] as? [String: Any], "\(downRemote)")
        #expect((uploadError["message"] as? String)?.contains("rclone") == true, "\(uploadError)")
        #expect(down["last_failure"] is NSNull, "an upload failure is the remote's, not the last failure: \(down)")
        #expect(down["healthy"] as? Bool == true, "pending for less than BACKUP_INTERVAL_HOURS: \(down)")

        // The remote is back: push uploads the pending backup and says so.
        try remote.repairEndpoint()
        let push = record("push", try stack.post("/api/backups/push"))
        try #require(push.status == 200, "\(push)")
        let pushed = try push.object()
        #expect(pushed["uploaded"] as? [String] == [second], "\(pushed)")
        #expect((pushed["pending"] as? [Any])?.isEmpty == true)
        #expect(JSON.int(pushed["remote_backups"]) == 2)
        #expect(Set(try remote.names()) == [first, first + ".json", second, second + ".json"])
        let (_, upRemote) = try remoteStatus(stack)
        #expect(upRemote["last_upload_error"] is NSNull && (upRemote["pending_uploads"] as? [Any])?.isEmpty == true)

        // The machine is lost: an empty BACKUP_DIR, the same remote; the data changes meanwhile.
        try cluster.psql(APIRoundTripTests.changes, database: db)
        try FileManager.default.removeItem(at: stack.backupDir)
        try FileManager.default.createDirectory(at: stack.backupDir, withIntermediateDirectories: true)
        #expect(try list(stack).isEmpty)
        let sync = record("sync", try stack.post("/api/backups/sync"))
        try #require(sync.status == 200, "\(sync)")
        #expect(JSON.int(try sync.object()["remote_backups"]) == 2)
        let synced = try list(stack)
        #expect(synced == [first: ["remote"], second: ["remote"]], "\(synced)")

        // Restore the remote-only backup the push uploaded: fetched, checked, restored; the data is the source's.
        let restore = record("restore", try stack.post("/api/backups/restore", json: #"{"backup_filename": "\#(second)"}"#))
        try #require(restore.status == 200, "\(restore)")
        #expect(try restore.object()["success"] as? Bool == true)
        let factsAfter = try DatabaseFacts.read(db, on: cluster)
        #expect(factsAfter == factsBefore)
        #expect(factsAfter.canary == SampleSchema.canaryValue)
        DumpComparison.expectEqual(dumpBefore, try cluster.normalisedDump(db), "restored through the API from the remote")
        let after = try list(stack)
        #expect(after[second] == ["local", "remote"], "fetched and kept: \(after)")
        #expect(after[first] == ["remote"])

        // No answer carries the S3 secret, the access key or the API password.
        let moto = try #require(remote.moto)
        for (label, body) in bodies {
            for secret in [moto.secret, moto.accessKeyID, stack.password] {
                #expect(!body.contains(secret), "the \(label) answer holds a secret")
            }
        }
    }
}
