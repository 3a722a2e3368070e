import Crypto
import Foundation
import Logging
import TestSupport
import Testing

@testable import BackupCore

/// A 60-day outage of the remote, then recovery, with real rclone (its `local` type) and an injected clock: during
/// the outage (a backup every third day) every backup stays pending and local retention keeps them all (the only copies); once the remote is
/// back, one push uploads them oldest first and remote retention keeps the newest N.
@Suite("Off-site: a long outage, then recovery", .enabled(if: ProcessRunner.which("rclone") != nil))
struct RemoteOutageTests {
    static let now = Date(timeIntervalSince1970: 1_796_000_000)

    struct Setup {
        let dir: TemporaryDirectory
        let configuration: Configuration
        let remoteDirectory: URL

        func manager(at date: Date) -> BackupManager {
            BackupManager(configuration: configuration, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
                          clock: FixedTimeSource(date), environment: ["PATH": ProcessRunner.standardPath])
        }
    }

    static func setUp(remoteRetentionDays: Int, remoteMaxCount: Int) throws -> Setup {
        let dir = try TemporaryDirectory(prefix: "outage")
        let remoteDirectory = dir.url.appendingPathComponent("remote")
        let config = try dir.write("rclone.conf", "[disk]\ntype = local\n")
        chmod(config, 0o600)
        var configuration = Configuration(backupDirectory: dir.url.appendingPathComponent("backups").path,
                                          retentionDays: 7, maxCount: 5)
        configuration.postgres.database = "db"
        configuration.remote = RemoteSettings(remoteName: "disk", path: remoteDirectory.appendingPathComponent("prefix").path,
                                              rcloneConfig: config, retentionDays: remoteRetentionDays,
                                              maxCount: remoteMaxCount)
        return Setup(dir: dir, configuration: configuration, remoteDirectory: remoteDirectory)
    }

    /// Writes a committed backup made `daysAgo` before `now` (an hour more), or at `created`, as a create would
    /// leave it, and marks it pending.
    static func addPendingBackup(_ setup: Setup, daysAgo: Int, at created: Date? = nil, manager: BackupManager) throws -> String {
        let store = BackupStore(directory: setup.configuration.backupDirectory)
        try store.prepare()
        let created = created ?? now.addingTimeInterval(-Double(daysAgo) * 86_400 - 3600)
        let name = BackupName.make(database: "db", at: created, taken: store.isTaken)
        let bytes = Array("backup made \(daysAgo) days ago\n".utf8)
        try Data(bytes).write(to: URL(fileURLWithPath: store.dumpPath(name)))
        let sha = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        let metadata = BackupMetadata(filename: name, createdAt: created, database: "db", sizeBytes: Int64(bytes.count),
                                      description: "outage", sha256: sha, kind: .scheduled, formatVersion: 1)
        try store.writeSidecar(metadata)
        manager.markPending(metadata)
        return name
    }

    @Test func aSixtyDayOutageKeepsEveryBackupLocallyThenRemoteRetentionKeepsTheNewestN() throws {
        let setup = try Self.setUp(remoteRetentionDays: 1, remoteMaxCount: 3)
        defer { setup.dir.remove() }
        // The remote "is down": its directory is a file, so every upload fails.
        try Data().write(to: setup.remoteDirectory)
        var names: [String] = []
        for daysAgo in stride(from: 60, through: 0, by: -3) {
            let manager = setup.manager(at: Self.now.addingTimeInterval(-Double(daysAgo) * 86_400))
            names.append(try Self.addPendingBackup(setup, daysAgo: daysAgo, manager: manager))
            let push = manager.pushLocked(try #require(manager.remote), progress: nil)
            #expect(push.error != nil && push.uploaded.isEmpty)
            // Local retention (7 days or the newest 5) would delete most of them: they are the only copies.
            let cleanup = try manager.cleanupLocked(dryRun: false)
            #expect(cleanup.deleted.isEmpty)
        }
        let down = setup.manager(at: Self.now)
        #expect(try down.list().backups.count == 21)
        let status = try down.status()
        #expect(status.remote?.pending.count == 21)
        #expect(status.remote?.lastError != nil)
        #expect(!status.healthy, "21 backups pending for up to 60 days: \(status.unhealthyReasons)")
        #expect(status.unhealthyReasons.contains { $0.contains(names[0]) && $0.contains("pgbackup push") })

        // The remote is back.
        try FileManager.default.removeItem(at: setup.remoteDirectory)
        let result = try down.push()
        #expect(result.uploaded == names, "oldest first")
        #expect(result.pending.isEmpty)
        #expect(result.remoteDeleted.count == 18)
        let remoteNames = try FileManager.default.contentsOfDirectory(
            atPath: setup.remoteDirectory.appendingPathComponent("prefix").path).sorted()
        let newest = names.suffix(3)
        #expect(remoteNames == newest.flatMap { [$0, $0 + ".json"] }.sorted())
        let recovered = try down.status()
        #expect(recovered.healthy, "\(recovered.unhealthyReasons)")
        // Now local retention may apply again.
        #expect(try down.cleanup().deleted.count == 21 - 5)
        let listing = try down.list()
        #expect(listing.locatedEntries.filter { $0.locations == ["remote"] }.isEmpty)
        #expect(listing.locatedEntries.prefix(3).allSatisfy { $0.locations == ["local", "remote"] })
    }
}
