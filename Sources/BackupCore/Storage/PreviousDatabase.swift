import Foundation

/// A database `restore --swap` (or `rollback`) moved aside under `<target>_before_YYYYMMDD_HHMMSS` and kept for
/// `rollback` (BACKUP_KEEP_PREVIOUS_DATABASES). Recorded in the state file, so `status` lists them without asking
/// PostgreSQL.
public struct PreviousDatabase: Sendable, Equatable {
    public var name: String
    public var target: String
    /// When it was swapped out.
    public var at: Date
    /// The backup restored in its place (for a rollback: the database that was brought back).
    public var replacedBy: String

    public var json: JSON {
        .object([("name", .string(name)), ("target", .string(target)), ("swapped_out_at", .string(Timestamp.iso8601(at))),
                 ("replaced_by", .string(replacedBy))])
    }

    static func parse(_ json: JSON) -> PreviousDatabase? {
        guard let name = json["name"]?.stringValue, let target = json["target"]?.stringValue,
              let at = json["swapped_out_at"]?.stringValue.flatMap(Timestamp.parse) else { return nil }
        return PreviousDatabase(name: name, target: target, at: at, replacedBy: json["replaced_by"]?.stringValue ?? "")
    }
}
