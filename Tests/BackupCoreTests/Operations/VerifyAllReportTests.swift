import Foundation
import Testing

@testable import BackupCore

/// `verify --all`'s accounting and JSON, which the CLI prints as they are.
@Suite("VerifyAllReport")
struct VerifyAllReportTests {
    static let verified = VerificationReport(filename: "backup_db_20260102_000000.sql.gz", checksumChecked: true,
                                             sha256: String(repeating: "a", count: 64), uncompressedBytes: 10)
    static let report = VerifyAllReport(entries: [
        .init(filename: verified.filename, outcome: .verified(verified)),
        .init(filename: "backup_db_20260101_000000.sql.gz", outcome: .gone(code: "not_found")),
        .init(filename: "backup_db_20251231_000000.sql.gz",
              outcome: .failed(code: "verification_failed", detail: "backup 'x' failed verification: truncated")),
        .init(filename: "backup_db_20251230_000000.sql.gz", outcome: .failed(code: "verification_failed", detail: "bad JSON")),
    ], orphans: ["backup_db_20251229_000000.sql.gz"])

    @Test("gone entries are neither checked nor failed; failed and damaged ones fail the run")
    func accounting() {
        #expect(Self.report.checked == 3)
        #expect(Self.report.failed == 2)
        #expect(Self.report.gone == 1)
        #expect(!Self.report.allVerified)
        let allGood = VerifyAllReport(entries: [Self.report.entries[0], Self.report.entries[1]], orphans: [])
        #expect(allGood.allVerified && allGood.checked == 1 && allGood.gone == 1)
        #expect(VerifyAllReport(entries: [], orphans: ["o"]).allVerified)
    }

    @Test("the JSON: totals first, then one result per entry, orphans left out")
    func json() {
        #expect(Self.report.json == .object([
            ("success", .bool(false)), ("checked", .int(3)), ("failed", .int(2)), ("gone", .int(1)),
            ("results", .array([
                Self.verified.json,
                .object([("filename", .string("backup_db_20260101_000000.sql.gz")), ("verified", .bool(false)),
                         ("gone", .bool(true)), ("detail", .string("deleted while verify --all ran, not checked"))]),
                .object([("filename", .string("backup_db_20251231_000000.sql.gz")), ("verified", .bool(false)),
                         ("error", .string("verification_failed")),
                         ("detail", .string("backup 'x' failed verification: truncated"))]),
                .object([("filename", .string("backup_db_20251230_000000.sql.gz")), ("verified", .bool(false)),
                         ("error", .string("verification_failed")), ("detail", .string("bad JSON"))]),
            ])),
        ]))
    }
}
