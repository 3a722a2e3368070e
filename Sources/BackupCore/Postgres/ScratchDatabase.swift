import Foundation

/// The names of restore drills' scratch databases: `<prefix>_YYYYMMDD_HHMMSS` (BACKUP_DRILL_DATABASE, UTC).
/// Only a name of exactly that shape is ever dropped as a leftover, so a database that merely starts with the
/// prefix (`pgbackup_drill_notes`) is never touched.
public enum ScratchDatabase {
    public static func name(prefix: String, at date: Date) -> String { "\(prefix)_\(Timestamp.compact(date))" }

    /// Whether `database` is a scratch database of `prefix`: the prefix, `_`, 8 digits, `_`, 6 digits.
    public static func isScratch(_ database: String, prefix: String) -> Bool {
        guard database.hasPrefix(prefix + "_") else { return false }
        let stamp = Array(database.utf8.dropFirst(prefix.utf8.count + 1))
        guard stamp.count == 15, stamp[8] == UInt8(ascii: "_") else { return false }
        return stamp.enumerated().allSatisfy { index, byte in
            index == 8 || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
    }
}
