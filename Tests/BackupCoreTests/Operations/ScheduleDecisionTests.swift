import Foundation
import Testing

@testable import BackupCore

@Suite("ScheduleDecision")
struct ScheduleDecisionTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func backup(_ name: String, hoursAgo: Double, kind: BackupKind?) -> BackupMetadata {
        BackupMetadata(filename: name, createdAt: now.addingTimeInterval(-hoursAgo * 3600), database: "db",
                       sizeBytes: 1, description: "", kind: kind)
    }

    @Test func disabledWinsOverEverything() {
        #expect(ScheduleDecision.decide(enabled: false, intervalHours: 24, backups: [], now: Self.now) == .disabled)
    }

    @Test func firstRunWithNoBackupsIsDue() {
        #expect(ScheduleDecision.decide(enabled: true, intervalHours: 24, backups: [], now: Self.now)
            == .due(reason: "no scheduled backup yet"))
    }

    @Test func youngScheduledBackupIsNotDueAndSaysWhenItWillBe() {
        let recent = Self.backup("a", hoursAgo: 3, kind: .scheduled)
        let decision = ScheduleDecision.decide(enabled: true, intervalHours: 24, backups: [recent], now: Self.now)
        #expect(decision == .notDue(last: "a", next: Self.now.addingTimeInterval(21 * 3600)))
    }

    @Test func oldScheduledBackupIsDue() {
        let old = Self.backup("a", hoursAgo: 25, kind: .scheduled)
        #expect(ScheduleDecision.decide(enabled: true, intervalHours: 24, backups: [old], now: Self.now)
            == .due(reason: "the last scheduled backup is older than 24 h"))
    }

    @Test func exactlyOneIntervalLaterIsDue() {
        let old = Self.backup("a", hoursAgo: 6, kind: .scheduled)
        if case .due = ScheduleDecision.decide(enabled: true, intervalHours: 6, backups: [old], now: Self.now) {
        } else {
            Issue.record("a backup exactly one interval old should make the next one due")
        }
    }

    @Test("manual, pre-restore and old-tool backups do not count", arguments: [BackupKind.manual, .preRestore, nil])
    func otherKindsDoNotCount(kind: BackupKind?) {
        let recent = Self.backup("m", hoursAgo: 1, kind: kind)
        #expect(ScheduleDecision.decide(enabled: true, intervalHours: 24, backups: [recent], now: Self.now)
            == .due(reason: "no scheduled backup yet"))
    }

    @Test func theNewestScheduledBackupDecides() {
        let backups = [Self.backup("old", hoursAgo: 50, kind: .scheduled), Self.backup("new", hoursAgo: 2, kind: .scheduled)]
        let decision = ScheduleDecision.decide(enabled: true, intervalHours: 24, backups: backups, now: Self.now)
        #expect(decision == .notDue(last: "new", next: Self.now.addingTimeInterval(22 * 3600)))
    }
}
