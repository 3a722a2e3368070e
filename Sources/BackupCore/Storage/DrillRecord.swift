import Foundation

/// The outcome of a restore drill, as the drilled backup's sidecar (`last_drill`) and the state file keep it.
public struct DrillRecord: Sendable, Equatable {
    /// A table whose row count in the restored copy differs from the one recorded at backup time.
    public struct Mismatch: Sendable, Equatable {
        public var table: String
        public var expected: Int64
        /// nil when the restored copy has no such table.
        public var found: Int64?

        public init(table: String, expected: Int64, found: Int64?) {
            self.table = table
            self.expected = expected
            self.found = found
        }

        public var json: JSON {
            .object([("table", .string(table)), ("expected", .int(expected)), ("found", found.map(JSON.int) ?? .null)])
        }
    }

    public var backup: String
    public var at: Date
    public var passed: Bool
    public var durationSeconds: Double
    public var mismatches: [Mismatch]
    /// Why the restore into the scratch database failed; nil when it succeeded.
    public var error: String?

    public init(backup: String, at: Date, passed: Bool, durationSeconds: Double, mismatches: [Mismatch] = [],
                error: String? = nil) {
        self.backup = backup
        self.at = at
        self.passed = passed
        self.durationSeconds = durationSeconds
        self.mismatches = mismatches
        self.error = error
    }

    public var json: JSON {
        .object([
            ("backup", .string(backup)), ("at", .string(Timestamp.iso8601(at))), ("passed", .bool(passed)),
            ("duration_seconds", .double((durationSeconds * 1000).rounded() / 1000)),
            ("mismatches", .array(mismatches.map(\.json))), ("error", error.map(JSON.string) ?? .null),
        ])
    }

    /// Reads a record written by `json`; nil when it is not one.
    public static func parse(_ json: JSON) -> DrillRecord? {
        guard let backup = json["backup"]?.stringValue, let at = json["at"]?.stringValue.flatMap(Timestamp.parse),
              let passed = json["passed"]?.boolValue
        else { return nil }
        var mismatches: [Mismatch] = []
        if case let .array(items)? = json["mismatches"] {
            for item in items {
                guard let table = item["table"]?.stringValue, let expected = item["expected"]?.int64Value else { return nil }
                mismatches.append(Mismatch(table: table, expected: expected, found: item["found"]?.int64Value))
            }
        }
        return DrillRecord(backup: backup, at: at, passed: passed,
                           durationSeconds: json["duration_seconds"]?.doubleValue ?? 0, mismatches: mismatches,
                           error: json["error"]?.stringValue)
    }
}
