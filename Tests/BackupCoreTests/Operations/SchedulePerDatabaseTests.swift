import Foundation
import Logging
import TestSupport
import Testing

@testable import BackupCore

/// The scheduler counts only POSTGRES_DB's scheduled backups, and a future-dated one (clock stepped back) holds it off
/// for at most one interval.
@Suite("ScheduleDecision per database and with a clock stepped back")
struct SchedulePerDatabaseTests {
    static let now = ScheduleDecisionTests.now
    static let hour: TimeInterval = 3600

    static func backup(_ database: String, hoursAgo: Double, kind: BackupKind? = .scheduled, legacyName: Bool = false)
        -> BackupMetadata {
        let created = now.addingTimeInterval(-hoursAgo * hour)
        return BackupMetadata(filename: "backup_\(database)_\(Timestamp.compact(created)).sql.gz", createdAt: created,
                              database: legacyName ? "" : database, sizeBytes: 1, description: "", kind: kind)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let title: String
        let backups: [BackupMetadata]
        let due: Bool
        var testDescription: String { title }
    }

    static let cases: [Case] = [
        Case(title: "another database's young scheduled backup does not hold off", backups: [backup("other", hoursAgo: 1)],
             due: true),
        Case(title: "another database's young one, ours old", backups: [backup("other", hoursAgo: 1), backup("app", hoursAgo: 30)],
             due: true),
        Case(title: "ours young, another old", backups: [backup("other", hoursAgo: 50), backup("app", hoursAgo: 2)],
             due: false),
        Case(title: "ours young under the old tool's name only", backups: [backup("app", hoursAgo: 2, legacyName: true)],
             due: false),
        Case(title: "ours young but a pre-restore backup", backups: [backup("app", hoursAgo: 2, kind: .preRestore)],
             due: true),
        Case(title: "a database whose name starts like ours does not count",
             backups: [backup("app_2", hoursAgo: 2, legacyName: true), backup("app2", hoursAgo: 2)], due: true),
    ]

    @Test("due / not due from POSTGRES_DB's scheduled backups only", arguments: cases)
    func onlyTheConfiguredDatabaseCounts(_ c: Case) {
        let decision = ScheduleDecision.decide(enabled: true, intervalHours: 24, backups: c.backups, database: "app", now: Self.now)
        if case .due = decision { #expect(c.due, "\(decision)") } else { #expect(!c.due, "\(decision)") }
    }

    @Test func aFutureDatedBackupHoldsOffOneIntervalFromItsFirstSighting() {
        let future = Self.backup("app", hoursAgo: -240)  // dated ten days ahead: the clock went back ten days
        let first = ScheduleDecision.decide(enabled: true, intervalHours: 24, backups: [future], database: "app", now: Self.now)
        #expect(first == .heldByFutureBackup(last: future.filename, createdAt: future.createdAt,
                                             next: Self.now.addingTimeInterval(24 * Self.hour)))
        let seen = Self.now
        let later = Self.now.addingTimeInterval(23 * Self.hour)
        #expect(ScheduleDecision.decide(enabled: true, intervalHours: 24, backups: [future], database: "app", now: later,
                                        futureSeenAt: seen)
            == .heldByFutureBackup(last: future.filename, createdAt: future.createdAt, next: seen.addingTimeInterval(24 * Self.hour)))
        let afterOneInterval = Self.now.addingTimeInterval(24 * Self.hour)
        let due = ScheduleDecision.decide(enabled: true, intervalHours: 24, backups: [future], database: "app",
                                          now: afterOneInterval, futureSeenAt: seen)
        #expect(due == .due(reason: "no scheduled backup yet, apart from \(future.filename) dated in the future"))
    }

    @Test func afterTheHoldTheBackupsDatedInThePastDecide() {
        let future = Self.backup("app", hoursAgo: -240)
        let seen = Self.now.addingTimeInterval(-30 * Self.hour)
        let fresh = Self.backup("app", hoursAgo: 5)
        #expect(ScheduleDecision.decide(enabled: true, intervalHours: 24, backups: [future, fresh], database: "app",
                                        now: Self.now, futureSeenAt: seen)
            == .notDue(last: fresh.filename, next: fresh.createdAt.addingTimeInterval(24 * Self.hour)))
        let stale = Self.backup("app", hoursAgo: 25)
        #expect(ScheduleDecision.decide(enabled: true, intervalHours: 24, backups: [future, stale], database: "app",
                                        now: Self.now, futureSeenAt: seen)
            == .due(reason: "the last scheduled backup is older than 24 h"))
    }

    @Test func aSightingRecordedAfterNowRestartsTheHoldNow() {
        let future = Self.backup("app", hoursAgo: -48)
        let decision = ScheduleDecision.decide(enabled: true, intervalHours: 6, backups: [future], database: "app",
                                               now: Self.now, futureSeenAt: Self.now.addingTimeInterval(100 * Self.hour))
        #expect(decision == .heldByFutureBackup(last: future.filename, createdAt: future.createdAt,
                                                next: Self.now.addingTimeInterval(6 * Self.hour)))
    }

    @Test func anotherDatabasesFutureBackupDoesNotHoldOff() {
        let decision = ScheduleDecision.decide(enabled: true, intervalHours: 24, backups: [Self.backup("other", hoursAgo: -240)],
                                               database: "app", now: Self.now)
        #expect(decision == .due(reason: "no scheduled backup yet"))
    }
}

/// The first sighting of a future-dated backup is recorded in the backup directory, so the oneshot's hold ends.
@Suite("Schedule hold recorded on disk")
struct ScheduleHoldTests {
    static let start = ScheduleDecisionTests.now

    static func manager(_ directory: String, at date: Date) -> BackupManager {
        let configuration = Configuration(
            backupDirectory: directory, retentionDays: 7, maxCount: 30, intervalHours: 24,
            postgres: PostgresConnection(host: "/nonexistent", port: 1, database: "app", user: "nobody"))
        return BackupManager(configuration: configuration, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
                             clock: FixedTimeSource(date), environment: [:])
    }

    @Test func aFutureDatedBackupHoldsOffOneIntervalAcrossRuns() throws {
        let directory = try TemporaryDirectory()
        let future = SchedulePerDatabaseTests.backup("app", hoursAgo: -240)
        try directory.write(future.filename, "x")
        try directory.write(future.filename + ".json", future.json.serialized(pretty: true))
        let expected = ScheduleDecision.heldByFutureBackup(last: future.filename, createdAt: future.createdAt,
                                                           next: Self.start.addingTimeInterval(24 * 3600))
        #expect(try Self.manager(directory.path, at: Self.start).scheduleDecision() == expected)
        #expect(FileManager.default.fileExists(atPath: directory.file(".schedule.json")))
        #expect(try Self.manager(directory.path, at: Self.start.addingTimeInterval(23 * 3600)).scheduleDecision() == expected)
        let due = try Self.manager(directory.path, at: Self.start.addingTimeInterval(24 * 3600 + 1)).scheduleDecision()
        #expect(due == .due(reason: "no scheduled backup yet, apart from \(future.filename) dated in the future"))
    }
}
