import BackupAPI
import BackupCore
import Foundation
import Testing

/// `BackupManager.verifyAll`, the loop behind `pgbackup verify --all`, over hand-made backups.
@Suite("Verify all")
struct VerifyAllTests {
    @Test("each backup is settled in listing order: verified, failed, gone; damaged sidecars fail; orphans are listed")
    func outcomes() throws {
        let fixture = try RouterFixture()
        let good = try fixture.makeBackup(ageHours: 1)
        let victim = try fixture.makeBackup(ageHours: 2)
        let flipped = try fixture.makeBackup(ageHours: 3)
        let url = URL(fileURLWithPath: fixture.path(flipped.filename))
        var bytes = [UInt8](try Data(contentsOf: url))
        bytes[bytes.count / 2] ^= 0x55
        try Data(bytes).write(to: url)
        let broken = try fixture.makeBackup(ageHours: 4)
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: fixture.path(broken.filename + ".json")))
        let orphan = try fixture.makeBackup(ageHours: 5)
        try FileManager.default.removeItem(atPath: fixture.path(orphan.filename + ".json"))

        var seen: [String] = []
        let report = try fixture.manager.verifyAll { entry in
            seen.append(entry.filename)
            // Deleted by someone else after the listing, before its turn.
            if entry.filename == good.filename {
                try? FileManager.default.removeItem(atPath: fixture.path(victim.filename + ".json"))
                try? FileManager.default.removeItem(atPath: fixture.path(victim.filename))
            }
        }
        #expect(seen == report.entries.map(\.filename))
        #expect(report.entries.map(\.filename) == [good.filename, victim.filename, flipped.filename, broken.filename])
        guard report.entries.count == 4 else { return }
        #expect(report.entries[0].outcome == .verified(try fixture.manager.verify(good.filename)))
        #expect(report.entries[1].outcome == .gone(code: "not_found"))
        guard case let .failed(code, detail) = report.entries[2].outcome else {
            Issue.record("a flipped byte verified: \(report.entries[2])")
            return
        }
        #expect(code == "verification_failed" && detail.contains("failed verification"), "\(detail)")
        guard case let .failed(brokenCode, brokenDetail) = report.entries[3].outcome else {
            Issue.record("a damaged sidecar verified: \(report.entries[3])")
            return
        }
        #expect(brokenCode == "verification_failed" && brokenDetail.contains("not valid JSON"), "\(brokenDetail)")
        #expect(report.orphans == [orphan.filename])
        #expect((report.checked, report.failed, report.gone, report.allVerified) == (3, 2, 1, false))
    }

    @Test("an empty directory verifies nothing and succeeds")
    func empty() throws {
        let report = try RouterFixture().manager.verifyAll()
        #expect(report.entries.isEmpty && report.allVerified)
        #expect(report.json == .object([("success", .bool(true)), ("checked", .int(0)), ("failed", .int(0)),
                                        ("gone", .int(0)), ("results", .array([]))]))
    }
}
