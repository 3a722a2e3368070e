import Foundation

/// The names of restore drills' scratch databases: `<prefix>_YYYYMMDD_HHMMSS` (BACKUP_DRILL_DATABASE, UTC).
/// Only a database of exactly that shape that also carries a drill's marker (`DrillMarker`) is ever dropped as a
/// leftover, so a database that merely starts with the prefix (`pgbackup_drill_notes`), or has the very shape
/// but is someone else's (a swap's `<db>_before_…` under a careless prefix, a user's copy), is never touched.
public enum ScratchDatabase {
    public static func name(prefix: String, at date: Date) -> String { "\(prefix)_\(Timestamp.compact(date))" }

    /// Whether `database` has the name shape of a scratch database of `prefix`: the prefix, `_`, 8 digits, `_`,
    /// 6 digits.
    public static func isScratch(_ database: String, prefix: String) -> Bool {
        guard database.hasPrefix(prefix + "_") else { return false }
        let stamp = Array(database.utf8.dropFirst(prefix.utf8.count + 1))
        guard stamp.count == 15, stamp[8] == UInt8(ascii: "_") else { return false }
        return stamp.enumerated().allSatisfy { index, byte in
            index == 8 || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
    }

    /// Whether `database`, carrying `comment`, is a drill's scratch database of `prefix`: the name shape and the
    /// marker, naming that very database.
    public static func isOurs(_ database: String, comment: String?, prefix: String) -> Bool {
        isScratch(database, prefix: prefix) && DrillMarker.parse(comment)?.scratch == database
    }
}

/// The `COMMENT ON DATABASE` a drill puts on its scratch database the moment it exists: which backup it
/// restores, and the database's own name (so a copy made from it under another name is not taken for it).
public struct DrillMarker: DatabaseMarker {
    public static let tag = "pgbackup-drill"

    public var pgbackup: String = DrillMarker.tag
    public var scratch: String
    public var backup: String

    public init(scratch: String, backup: String) {
        self.scratch = scratch
        self.backup = backup
    }
}
