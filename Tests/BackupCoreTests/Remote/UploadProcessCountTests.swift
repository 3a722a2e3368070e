import Foundation
import Logging
import TestSupport
import Testing

@testable import BackupCore

/// How many rclone processes one upload starts (each costs a start-up, ~0.2–0.5 s here): the dump's copy, one
/// listing with hashes (the dump's check and remote retention's fresh listing), the sidecar's copy; remote
/// retention adds two deletions (every sidecar, then every dump), whatever their number (before: four a backup,
/// and per backup deleted two more, plus a listing). Counted through a
/// wrapper in front of the real rclone (its `local` type), and the remote's content checked.
@Suite("Off-site: rclone processes an upload starts", .enabled(if: ProcessRunner.which("rclone") != nil))
struct UploadProcessCountTests {
    /// The rclone subcommand of one logged argv (its words that are not flags; flag values come before it).
    static func subcommand(_ line: String) -> String {
        line.split(separator: " ").map(String.init).first { ["copyto", "lsjson", "delete", "deletefile", "cat"].contains($0) } ?? line
    }

    @Test func anUploadStartsThreeRclonesAndRetentionTwoMoreWhateverItDeletes() throws {
        let setup = try RemoteOutageTests.setUp(remoteRetentionDays: 1, remoteMaxCount: 5)
        defer { setup.dir.remove() }
        let real = try #require(ProcessRunner.which("rclone"))
        let log = setup.dir.url.appendingPathComponent("rclone-starts.log").path
        let bin = setup.dir.url.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let wrapper = bin.appendingPathComponent("rclone").path
        try FileTools.writeExecutable(
            "#!/bin/sh\nfor a in \"$@\"; do case $a in -*) ;; *) printf '%s ' \"$a\";; esac; done >> '\(log)'\necho >> '\(log)'\nexec '\(real)' \"$@\"\n",
            to: URL(fileURLWithPath: wrapper))
        func makeManager(remoteMaxCount: Int) -> BackupManager {
            var configuration = setup.configuration
            configuration.remote?.maxCount = remoteMaxCount
            return BackupManager(configuration: configuration, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
                                 clock: FixedTimeSource(RemoteOutageTests.now),
                                 environment: ["PATH": "\(bin.path):\(ProcessRunner.standardPath)"])
        }
        let manager = makeManager(remoteMaxCount: 5)
        func starts() -> [String] {
            defer { try? FileManager.default.removeItem(atPath: log) }
            return ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }
        let remote = try #require(manager.remote)

        let first = try RemoteOutageTests.addPendingBackup(setup, daysAgo: 3, manager: manager)
        #expect(manager.pushLocked(remote, progress: nil).uploaded == [first])
        let one = starts()
        #expect(one.count == 3, "\(one)")
        #expect(one.map { Self.subcommand($0) } == ["copyto", "lsjson", "copyto"])

        let second = try RemoteOutageTests.addPendingBackup(setup, daysAgo: 2, manager: manager)
        #expect(manager.pushLocked(remote, progress: nil).uploaded == [second])
        #expect(starts().count == 3)

        // With the newest 1 kept (and 1 day), the next upload's retention deletes both older ones: two calls.
        let keepingOne = makeManager(remoteMaxCount: 1)
        let third = try RemoteOutageTests.addPendingBackup(setup, daysAgo: 0, manager: keepingOne)
        let push = keepingOne.pushLocked(try #require(keepingOne.remote), progress: nil)
        #expect(push.uploaded == [third] && push.error == nil)
        #expect(Set(push.remoteDeleted) == [first, second])
        let withRetention = starts()
        #expect(withRetention.map { Self.subcommand($0) }
            == ["copyto", "lsjson", "copyto", "delete", "delete"], "\(withRetention)")

        let left = try FileManager.default.contentsOfDirectory(
            atPath: setup.remoteDirectory.appendingPathComponent("prefix").path).sorted()
        #expect(left == [third, third + ".json"])
        #expect(RemoteState.load(manager.store).remoteBackups.map(\.filename) == [third])
        #expect(!FileManager.default.fileExists(atPath: setup.configuration.backupDirectory + "/.partial/remote-delete-\(getpid()).list"))
    }
}
