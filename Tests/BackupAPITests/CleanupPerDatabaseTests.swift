import BackupCore
import Foundation
import Testing

/// The API's cleanup answer keeps the guide's `success`, `deleted` and `kept`, and adds the per-database breakdown.
@Suite("API cleanup per database")
struct CleanupPerDatabaseTests {
    @Test("each database keeps its newest max_backups; the answer says what each keeps and loses")
    func cleanupIsPerDatabase() throws {
        let fixture = try RouterFixture(maxCount: 2, retentionDays: 1)
        let prodOld = try (0..<3).map { try fixture.makeBackup(database: "prod", ageHours: 240 + Double($0)) }
        let staging = try (0..<4).map { try fixture.makeBackup(database: "staging", ageHours: Double($0) + 1, kind: .preRestore) }
        // The old tool's sidecar has no `database`: it is grouped by the name's <db> part.
        var legacy = try fixture.makeBackup(database: "legacy", ageHours: 500, recordChecksum: false)
        legacy.database = ""
        try fixture.writeSidecar(legacy)

        let dry = try fixture.handle("POST", "/api/backups/cleanup", json: #"{"dry_run": true}"#).jsonBody
        #expect(dry["success"] == .bool(true))
        #expect(dry["deleted"] == .array([.string(prodOld[2].filename)]))
        #expect(dry["kept"] == .int(7))
        let expected: JSON = .array([
            .object([("database", .string("legacy")), ("kept", .array([.string(legacy.filename)])), ("deleted", .array([]))]),
            .object([("database", .string("prod")), ("kept", .array(prodOld.prefix(2).map { .string($0.filename) })),
                     ("deleted", .array([.string(prodOld[2].filename)]))]),
            .object([("database", .string("staging")), ("kept", .array(staging.map { .string($0.filename) })),
                     ("deleted", .array([]))]),
        ])
        #expect(dry["databases"] == expected)
        #expect(fixture.exists(prodOld[2].filename))

        let real = try fixture.handle("POST", "/api/backups/cleanup").jsonBody
        #expect(real["deleted"] == .array([.string(prodOld[2].filename)]))
        #expect(!fixture.exists(prodOld[2].filename))
        #expect(prodOld.prefix(2).allSatisfy { fixture.exists($0.filename) } && fixture.exists(legacy.filename))
    }
}
