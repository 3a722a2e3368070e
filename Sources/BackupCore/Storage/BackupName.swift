import Foundation

/// Backup file names: the one validator every name from outside goes through, and the generator.
public enum BackupName {
    public static let suffix = ".sql.gz"
    public static let sidecarSuffix = ".sql.gz.json"

    /// Checks a name that came from a URL, a request body or argv before it touches the filesystem.
    /// Whole-string match of `^backup_[A-Za-z0-9_.-]+_[0-9]{8}_[0-9]{6}(_[0-9]+)?\.sql\.gz$`, no `..`.
    public static func validate(_ name: String) throws -> String {
        guard isValid(name) else {
            let shown = String(name.unicodeScalars.prefix(80).map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7f ? Character($0) : "?" })
            throw BackupError.invalidInput(
                "invalid backup name '\(shown)': expected backup_<database>_<YYYYMMDD>_<HHMMSS>.sql.gz")
        }
        return name
    }

    public static func isValid(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard bytes.count <= 200, !name.contains(".."), bytes.starts(with: Array("backup_".utf8)),
            bytes.count > suffix.utf8.count, name.hasSuffix(suffix)
        else { return false }
        // Strip the fixed prefix and suffix, then read the tail backwards: [_N] _HHMMSS _YYYYMMDD.
        var middle = bytes[7..<(bytes.count - suffix.utf8.count)]
        func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
        func dropDigitsGroup(exactly count: Int?) -> Bool {
            var digits = 0
            while let last = middle.last, isDigit(last) { middle = middle.dropLast(); digits += 1 }
            guard digits > 0, count == nil || digits == count, middle.last == UInt8(ascii: "_") else { return false }
            middle = middle.dropLast()
            return true
        }
        // Try with the optional collision counter first, then without.
        let original = middle
        var matched = false
        for withCounter in [true, false] {
            middle = original
            if withCounter, !dropDigitsGroup(exactly: nil) { continue }
            if dropDigitsGroup(exactly: 6), dropDigitsGroup(exactly: 8) { matched = true; break }
        }
        guard matched, !middle.isEmpty else { return false }
        return middle.allSatisfy { b in
            isDigit(b) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b == UInt8(ascii: "_")
                || b == UInt8(ascii: ".") || b == UInt8(ascii: "-")
        }
    }

    /// The database part of a file name: characters outside `[A-Za-z0-9_.-]` become `_`.
    public static func fileSafe(database: String) -> String {
        let mapped = database.unicodeScalars.map { scalar -> Character in
            let ok = scalar.isASCII
                && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "_.-".unicodeScalars.contains(scalar))
            return ok ? Character(scalar) : "_"
        }
        let text = String(mapped).replacingOccurrences(of: "..", with: "__")
        return text.isEmpty ? "db" : text
    }

    /// `backup_<db>_<YYYYMMDD>_<HHMMSS>.sql.gz`, with `_2`, `_3`… when `taken` says a name is in use.
    public static func make(database: String, at date: Date, taken: (String) -> Bool) -> String {
        let stem = "backup_\(fileSafe(database: database))_\(Timestamp.compact(date))"
        var candidate = stem + suffix
        var counter = 2
        while taken(candidate) {
            candidate = "\(stem)_\(counter)\(suffix)"
            counter += 1
        }
        return candidate
    }
}

extension BackupName {
    /// The `<db>` part of a valid name (`backup_<db>_<YYYYMMDD>_<HHMMSS>[_N].sql.gz`), read from the end as
    /// `isValid` does: with the collision counter first, then without.
    static func databasePart(_ name: String) -> String? {
        guard isValid(name) else { return nil }
        let middle = name.dropFirst("backup_".count).dropLast(suffix.count)
        var parts = middle.split(separator: "_", omittingEmptySubsequences: false)
        func isDigits(_ part: Substring, _ count: Int?) -> Bool {
            !part.isEmpty && part.allSatisfy(\.isASCII) && part.allSatisfy(\.isNumber) && (count == nil || part.count == count)
        }
        let n = parts.count
        if n >= 4, isDigits(parts[n - 1], nil), isDigits(parts[n - 2], 6), isDigits(parts[n - 3], 8) {
            parts.removeLast(3)
        } else {
            parts.removeLast(2)
        }
        return parts.joined(separator: "_")
    }
}
