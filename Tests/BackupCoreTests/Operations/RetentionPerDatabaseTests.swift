import Foundation
import TestSupport
import Testing

@testable import BackupCore

/// Retention per database (issue 16): each database keeps its newest `maxCount`, its young backups and its newest,
/// whatever the other databases in the same directory have.
@Suite("Retention per database")
struct RetentionPerDatabaseTests {
    static let now = RetentionTests.now
    static let day = RetentionTests.day

    static func backup(_ database: String, _ name: String, daysOld age: Double) -> Retention.Candidate {
        Retention.Candidate(filename: "\(database)/\(name)", createdAt: now.addingTimeInterval(-age * day),
                            database: database)
    }

    struct Scenario: Sendable, CustomTestStringConvertible {
        let title: String
        let backups: [Retention.Candidate]
        let retentionDays: Int
        let maxCount: Int
        /// Per database: (kept, deleted), newest first.
        let expected: [String: (keep: [String], delete: [String])]
        var testDescription: String { title }
    }

    static let scenarios: [Scenario] = [
        Scenario(
            title: "the issue: two old backups of reta, two fresh of retb, maxCount 2, 1 day",
            backups: [backup("reta", "a1", daysOld: 11), backup("reta", "a2", daysOld: 11.01),
                      backup("retb", "b1", daysOld: 0.01), backup("retb", "b2", daysOld: 0)],
            retentionDays: 1, maxCount: 2,
            expected: ["reta": (["reta/a1", "reta/a2"], []), "retb": (["retb/b2", "retb/b1"], [])]),
        Scenario(
            title: "a busy database's young backups never push out the other's old ones",
            backups: (0..<10).map { backup("staging", "s\($0)", daysOld: Double($0) * 0.1) }
                + (0..<4).map { backup("prod", "p\($0)", daysOld: 20 + Double($0)) },
            retentionDays: 7, maxCount: 2,
            expected: ["staging": ((0..<10).map { "staging/s\($0)" }, []),
                       "prod": (["prod/p0", "prod/p1"], ["prod/p2", "prod/p3"])]),
        Scenario(
            title: "maxCount 1, all old: each database keeps only its own newest",
            backups: [backup("x", "x0", daysOld: 30), backup("x", "x1", daysOld: 40),
                      backup("y", "y0", daysOld: 50), backup("y", "y1", daysOld: 60)],
            retentionDays: 7, maxCount: 1,
            expected: ["x": (["x/x0"], ["x/x1"]), "y": (["y/y0"], ["y/y1"])]),
        Scenario(
            title: "three databases: young, count and newest each decided within the database",
            backups: [backup("a", "young", daysOld: 1), backup("a", "old1", daysOld: 10), backup("a", "old2", daysOld: 11),
                      backup("a", "old3", daysOld: 12),
                      backup("b", "only", daysOld: 400),
                      backup("c", "y1", daysOld: 0.5), backup("c", "y2", daysOld: 2), backup("c", "y3", daysOld: 3),
                      backup("c", "old", daysOld: 9)],
            retentionDays: 7, maxCount: 2,
            expected: ["a": (["a/young", "a/old1"], ["a/old2", "a/old3"]), "b": (["b/only"], []),
                       "c": (["c/y1", "c/y2", "c/y3"], ["c/old"])]),
        Scenario(
            title: "three databases, everything old: each keeps its newest maxCount",
            backups: (0..<5).flatMap { index in
                ["d1", "d2", "d3"].map { backup($0, "\(index)", daysOld: 60 + Double(index)) }
            },
            retentionDays: 7, maxCount: 3,
            expected: Dictionary(uniqueKeysWithValues: ["d1", "d2", "d3"].map { db in
                (db, (["0", "1", "2"].map { "\(db)/\($0)" }, ["3", "4"].map { "\(db)/\($0)" }))
            })),
    ]

    @Test("per-database scenarios", arguments: scenarios)
    func scenario(_ s: Scenario) {
        let plan = Retention.plan(s.backups, retentionDays: s.retentionDays, maxCount: s.maxCount, now: Self.now)
        #expect(plan.databases.map(\.database) == s.expected.keys.sorted())
        for databasePlan in plan.databases {
            let expected = s.expected[databasePlan.database]
            #expect(databasePlan.keep == expected?.keep, "\(databasePlan.database)")
            #expect(databasePlan.delete == expected?.delete, "\(databasePlan.database)")
        }
        #expect(Set(plan.keep) == Set(plan.databases.flatMap(\.keep)))
        #expect(Set(plan.delete) == Set(plan.databases.flatMap(\.delete)))
        #expect(plan.keep.count + plan.delete.count == s.backups.count)
    }

    /// "Whatever the others do": a database's plan among others is exactly its plan alone.
    @Test("each database's plan is the plan it would get alone", arguments: [(1, 1), (1, 3), (7, 2), (30, 30)])
    func independentOfOtherDatabases(retentionDays: Int, maxCount: Int) {
        var rng = SplitMix64(state: UInt64(retentionDays * 1000 + maxCount))
        for round in 0..<40 {
            let databases = Int(rng.next() % 2) == 0 ? ["p", "q"] : ["p", "q", "r"]
            let backups = (0..<Int(rng.next() % 40 + 1)).map { index in
                Self.backup(databases[Int(rng.next() % UInt64(databases.count))], "\(round)_\(index)",
                            daysOld: Double(rng.next() % 1000) / 20 - 1)
            }
            let plan = Retention.plan(backups, retentionDays: retentionDays, maxCount: maxCount, now: Self.now)
            for database in Set(backups.map(\.database)) {
                let own = backups.filter { $0.database == database }
                let alone = Retention.plan(own, retentionDays: retentionDays, maxCount: maxCount, now: Self.now)
                let together = plan.databases.first { $0.database == database }
                #expect(together?.keep == alone.keep && together?.delete == alone.delete, "\(database) round \(round)")
                let newest = own.max { Retention.isNewer($1, $0) }
                #expect(together?.keep.first == newest?.filename, "the newest of \(database) is kept")
                #expect((together?.keep.count ?? 0) >= min(maxCount, own.count))
            }
        }
    }

    @Test("the old tool's sidecars without database are grouped by the name's <db> part")
    func oldToolBackupsGroupByName() {
        let old = BackupMetadata(filename: "backup_reta_20260101_120000.sql.gz", createdAt: Self.now, database: "",
                                 sizeBytes: 1, description: "")
        let ours = BackupMetadata(filename: "backup_my_db_20260101_120000_2.sql.gz", createdAt: Self.now,
                                  database: "my db", sizeBytes: 1, description: "")
        let oldSpace = BackupMetadata(filename: "backup_my_db_20260101_120000.sql.gz", createdAt: Self.now,
                                      database: "", sizeBytes: 1, description: "")
        #expect(old.retentionDatabase == "reta")
        #expect(old.isBackup(of: "reta") && !old.isBackup(of: "retb"))
        #expect(ours.retentionDatabase == "my db" && ours.isBackup(of: "my db") && !ours.isBackup(of: "my_db"))
        #expect(oldSpace.retentionDatabase == "my_db" && oldSpace.isBackup(of: "my db"))
        #expect(BackupName.databasePart("backup_a_b_20260101_120000_12.sql.gz") == "a_b")
        #expect(BackupName.databasePart("backup_20260101_120000.sql.gz") == nil)
    }
}
