import Crypto
import Foundation
import Logging
import TestSupport
import Testing

@testable import BackupCore

/// An upload failure is the remote's: it is reported as `last_upload_error` and must not hide, as the last failure,
/// a create failure that still stands. Real rclone (its `local` type), no PostgreSQL: the create fails because the
/// database's socket does not exist, the upload because the remote's directory is a file.
@Suite("Off-site: an upload failure never hides a create failure", .enabled(if: ProcessRunner.which("rclone") != nil))
struct UploadFailureStatusTests {
    @Test func aFailedUploadAfterAFailedCreateLeavesStatusUnhealthyWithTheCreatesReason() throws {
        let setup = try RemoteOutageTests.setUp(remoteRetentionDays: 7, remoteMaxCount: 5)
        defer { setup.dir.remove() }
        var configuration = setup.configuration
        configuration.postgres.host = setup.dir.url.appendingPathComponent("no-such-socket-dir").path
        func makeManager(at date: Date) -> BackupManager {
            BackupManager(configuration: configuration, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
                          clock: FixedTimeSource(date), environment: ["PATH": ProcessRunner.standardPath])
        }
        let now = RemoteOutageTests.now
        let manager = makeManager(at: now)
        // An earlier backup, an hour old and still pending: the upload below has something to fail on.
        let pending = try RemoteOutageTests.addPendingBackup(setup, daysAgo: 0, manager: manager)
        manager.recordSuccess(operation: "create", at: now.addingTimeInterval(-3600))

        #expect(throws: (any Error).self) { try manager.create(description: "fails: no database") }
        let afterCreate = try manager.status()
        let createFailure = try #require(afterCreate.state.lastFailure)
        #expect(createFailure.operation == "create")
        #expect(!afterCreate.healthy)

        // The remote "is down": its directory is a file.
        try Data().write(to: setup.remoteDirectory)
        let push = manager.pushLocked(try #require(manager.remote), progress: nil)
        let uploadError = try #require(push.error)
        #expect(push.uploaded.isEmpty && push.pending == [pending])

        let status = try manager.status()
        #expect(!status.healthy, "the create's failure still stands")
        #expect(status.state.lastFailure == createFailure, "the upload failure does not replace the create's")
        let reason = "The last create failed at \(Timestamp.iso8601(createFailure.at)): \(createFailure.message)."
        #expect(status.unhealthyReasons.contains(reason), "\(status.unhealthyReasons)")
        let uploadMessage = try #require(status.json["remote"]?["last_upload_error"]?["message"]?.stringValue)
        #expect(uploadMessage == "\(uploadError)")
        #expect(status.state.lastFailures["upload"] != nil, "the metrics still see the upload's failure")
        #expect(status.json["last_failure"]?["operation"]?.stringValue == "create")

        // A later successful create clears the create's failure; the upload's error stays the remote's.
        let laterManager = makeManager(at: now.addingTimeInterval(600))
        let later = try RemoteOutageTests.addPendingBackup(setup, daysAgo: 0, at: now.addingTimeInterval(600), manager: laterManager)
        laterManager.recordSuccess(operation: "create", at: now.addingTimeInterval(600))
        let recovered = try laterManager.status()
        #expect(recovered.lastBackup?.filename == later)
        #expect(!recovered.unhealthyReasons.contains { $0.contains("The last create failed") }, "\(recovered.unhealthyReasons)")
        #expect(recovered.healthy, "nothing has been pending longer than the interval: \(recovered.unhealthyReasons)")
        #expect(recovered.json["remote"]?["last_upload_error"]?["message"]?.stringValue == uploadMessage)
    }
}
