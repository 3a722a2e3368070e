import Foundation

/// What `verify --all` found: one entry per listed backup (complete ones first, newest first, then damaged
/// sidecars), and the orphans it did not check.
public struct VerifyAllReport: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public enum Outcome: Sendable, Equatable {
            case verified(VerificationReport)
            /// Deleted (by retention or by hand) since the listing; `code` is the error reading it gave.
            case gone(code: String)
            /// Failed verification, could not be read, or its sidecar is damaged.
            case failed(code: String, detail: String)
        }

        public var filename: String
        public var outcome: Outcome

        public init(filename: String, outcome: Outcome) {
            self.filename = filename
            self.outcome = outcome
        }

        public static let goneDetail = "deleted while verify --all ran, not checked"

        public var json: JSON {
            switch outcome {
            case let .verified(report):
                report.json
            case .gone:
                .object([("filename", .string(filename)), ("verified", .bool(false)), ("gone", .bool(true)),
                         ("detail", .string(Self.goneDetail))])
            case let .failed(code, detail):
                .object([("filename", .string(filename)), ("verified", .bool(false)), ("error", .string(code)),
                         ("detail", .string(detail))])
            }
        }
    }

    public var entries: [Entry]
    /// Dump files without a sidecar: incomplete dumps, not backups, so neither checked nor counted.
    public var orphans: [String]

    public init(entries: [Entry], orphans: [String]) {
        self.entries = entries
        self.orphans = orphans
    }

    /// Entries that were there to check (gone ones are not).
    public var checked: Int { entries.count - gone }

    public var failed: Int {
        entries.count(where: { if case .failed = $0.outcome { true } else { false } })
    }

    public var gone: Int {
        entries.count(where: { if case .gone = $0.outcome { true } else { false } })
    }

    /// Every backup still there verified (a backup deleted meanwhile is no failure).
    public var allVerified: Bool { failed == 0 }

    public var json: JSON {
        .object([("success", .bool(allVerified)), ("checked", .int(Int64(checked))), ("failed", .int(Int64(failed))),
                 ("gone", .int(Int64(gone))), ("results", .array(entries.map(\.json)))])
    }
}
