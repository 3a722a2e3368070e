import Foundation
import TestSupport
import Testing

@testable import BackupCore

@Suite("Retention")
struct RetentionTests {
    static let now = Date(timeIntervalSince1970: 1_769_697_022)  // 2026-01-29 14:30:22 UTC
    static let day: TimeInterval = 86_400

    /// A backup `age` days old, named after its age so tables read easily.
    static func backup(_ name: String, daysOld age: Double) -> Retention.Candidate {
        Retention.Candidate(filename: name, createdAt: now.addingTimeInterval(-age * day))
    }

    struct Scenario: Sendable, CustomTestStringConvertible {
        let title: String
        let backups: [Retention.Candidate]
        let retentionDays: Int
        let maxCount: Int
        let keep: [String]
        let delete: [String]
        var testDescription: String { title }
    }

    static let scenarios: [Scenario] = [
        Scenario(title: "empty directory", backups: [], retentionDays: 7, maxCount: 30, keep: [], delete: []),
        Scenario(
            title: "one backup older than retention is kept (it is the newest)",
            backups: [backup("a", daysOld: 100)], retentionDays: 7, maxCount: 1, keep: ["a"], delete: []),
        Scenario(
            title: "60-day outage: all old, exactly the newest maxCount are kept",
            backups: (0..<10).map { backup("old\($0)", daysOld: 60 + Double($0)) },
            retentionDays: 7, maxCount: 3,
            keep: ["old0", "old1", "old2"], delete: (3..<10).map { "old\($0)" }),
        Scenario(
            title: "young backups are kept beyond maxCount",
            backups: (0..<6).map { backup("young\($0)", daysOld: Double($0) * 0.5) } + [backup("old", daysOld: 30)],
            retentionDays: 7, maxCount: 2,
            keep: (0..<6).map { "young\($0)" }, delete: ["old"]),
        Scenario(
            title: "maxCount 1 keeps the newest and the young ones",
            backups: [backup("a", daysOld: 1), backup("b", daysOld: 8), backup("c", daysOld: 9), backup("d", daysOld: 2)],
            retentionDays: 7, maxCount: 1, keep: ["a", "d"], delete: ["b", "c"]),
        Scenario(
            title: "maxCount 1, all old: only the newest survives",
            backups: [backup("c", daysOld: 30), backup("a", daysOld: 10), backup("b", daysOld: 20)],
            retentionDays: 7, maxCount: 1, keep: ["a"], delete: ["b", "c"]),
        Scenario(
            title: "count part alone keeps old backups up to maxCount",
            backups: [backup("a", daysOld: 10), backup("b", daysOld: 20), backup("c", daysOld: 30)],
            retentionDays: 7, maxCount: 30, keep: ["a", "b", "c"], delete: []),
        Scenario(
            title: "exactly retentionDays old is no longer young",
            backups: [backup("new", daysOld: 0), backup("edge", daysOld: 7), backup("inside", daysOld: 6.999)],
            retentionDays: 7, maxCount: 1, keep: ["new", "inside"], delete: ["edge"]),
        Scenario(
            title: "a backup dated in the future (clock skew) counts as young",
            backups: [backup("future", daysOld: -1), backup("old", daysOld: 40), backup("older", daysOld: 50)],
            retentionDays: 7, maxCount: 2, keep: ["future", "old"], delete: ["older"]),
        Scenario(
            title: "input order does not matter",
            backups: [backup("b", daysOld: 20), backup("d", daysOld: 40), backup("a", daysOld: 10), backup("c", daysOld: 30)],
            retentionDays: 7, maxCount: 2, keep: ["a", "b"], delete: ["c", "d"]),
    ]

    @Test("retention scenarios", arguments: scenarios)
    func scenario(_ s: Scenario) {
        let plan = Retention.plan(s.backups, retentionDays: s.retentionDays, maxCount: s.maxCount, now: Self.now)
        #expect(plan.keep == s.keep)
        #expect(plan.delete == s.delete)
        #expect(Set(plan.keep).isDisjoint(with: plan.delete))
        #expect(plan.keep.count + plan.delete.count == s.backups.count)
    }

    @Test("equal timestamps are ordered by name, whatever the input order")
    func equalTimestampsDeterministic() {
        let same = Self.now.addingTimeInterval(-30 * Self.day)
        let names = ["backup_db_20251230_143022.sql.gz", "backup_db_20251230_143022_2.sql.gz",
                     "backup_db_20251230_143022_3.sql.gz", "backup_db_20251230_143022_4.sql.gz"]
        let candidates = names.map { Retention.Candidate(filename: $0, createdAt: same) }
        var rng = SplitMix64(state: 42)
        var plans: Set<[String]> = []
        for _ in 0..<20 {
            let plan = Retention.plan(candidates.shuffled(using: &rng), retentionDays: 7, maxCount: 2, now: Self.now)
            #expect(plan.keep == ["backup_db_20251230_143022_4.sql.gz", "backup_db_20251230_143022_3.sql.gz"])
            #expect(plan.delete == ["backup_db_20251230_143022_2.sql.gz", "backup_db_20251230_143022.sql.gz"])
            plans.insert(plan.keep)
        }
        #expect(plans.count == 1)
    }

    @Test(
        "the newest backup is never deleted",
        arguments: [(1, 1), (1, 5), (7, 1), (30, 30), (36_500, 1)])
    func newestNeverDeleted(retentionDays: Int, maxCount: Int) {
        var rng = SplitMix64(state: UInt64(retentionDays * 100 + maxCount))
        for round in 0..<50 {
            let count = Int(rng.next() % 40) + 1
            let backups = (0..<count).map { index in
                Self.backup("b\(round)_\(index)", daysOld: Double(rng.next() % 1000) / 10 + 1)
            }
            let newest = backups.max { $0.createdAt != $1.createdAt ? $0.createdAt < $1.createdAt : $0.filename < $1.filename }
            let plan = Retention.plan(backups, retentionDays: retentionDays, maxCount: maxCount, now: Self.now)
            #expect(plan.keep.first == newest?.filename)
            #expect(!plan.delete.contains(newest?.filename ?? ""))
            #expect(plan.keep.count >= min(maxCount, count))
        }
    }
}
