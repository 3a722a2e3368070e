import Foundation

/// Backup file names: the one validator every name from outside goes through, and the generator. A name ends in
/// its codec's suffix (`.sql.gz` or `.sql.zst`), which is how a reader knows how to decode the file, followed by
/// `.age` when the file is encrypted with age (`.sql.gz.age`, `.sql.zst.age`).
public enum BackupName {
    /// What an encrypted backup's name ends with, after its codec's suffix.
    public static let encryptedSuffix = ".age"

    /// The codec a name's suffix stands for (`.age` aside), or nil when it ends in none (says nothing else about
    /// the name).
    public static func codec(of name: String) -> Codec? {
        let plain = isEncrypted(name) ? String(name.dropLast(encryptedSuffix.count)) : name
        return Codec.allCases.first { plain.hasSuffix($0.fileSuffix) }
    }

    /// Whether the name ends in `.age`: the file is encrypted with age.
    public static func isEncrypted(_ name: String) -> Bool { name.hasSuffix(encryptedSuffix) }

    /// The whole suffix of a name: its codec's, then `.age` when encrypted; nil when it ends in no codec's.
    public static func suffix(of name: String) -> String? {
        guard let codec = codec(of: name) else { return nil }
        return codec.fileSuffix + (isEncrypted(name) ? encryptedSuffix : "")
    }

    /// Whether `name` is the sidecar (`<dump name>.json`) of a name that ends in a codec's suffix.
    public static func isSidecar(_ name: String) -> Bool {
        name.hasSuffix(".json") && codec(of: String(name.dropLast(".json".count))) != nil
    }

    /// Checks a name that came from a URL, a request body or argv before it touches the filesystem.
    /// Whole-string match of `^backup_[A-Za-z0-9_.-]+_[0-9]{8}_[0-9]{6}(_[0-9]+)?\.sql\.(gz|zst)(\.age)?$`, no `..`.
    public static func validate(_ name: String) throws -> String {
        guard isValid(name) else {
            throw BackupError.invalidInput(
                "invalid backup name '\(EchoedText.shown(name))': expected backup_<database>_<YYYYMMDD>_<HHMMSS>.sql.gz, .sql.zst, .sql.gz.age or .sql.zst.age")
        }
        return name
    }

    public static func isValid(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard bytes.count <= 200, !name.contains(".."), bytes.starts(with: Array("backup_".utf8)),
            let suffix = suffix(of: name), bytes.count > 7 + suffix.utf8.count
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

    /// `backup_<db>_<YYYYMMDD>_<HHMMSS>` and the codec's suffix (`.sql.gz`, `.sql.zst`), then `.age` when
    /// `encrypted`, with `_2`, `_3`… before the suffix when `taken` says a name is in use — with any suffix, so no
    /// two backups share a stem.
    public static func make(database: String, at date: Date, codec: Codec = .gzip, encrypted: Bool = false,
                            taken: (String) -> Bool) -> String {
        let stem = "backup_\(fileSafe(database: database))_\(Timestamp.compact(date))"
        var candidate = stem
        var counter = 2
        let suffixes = Codec.allCases.flatMap { [$0.fileSuffix, $0.fileSuffix + encryptedSuffix] }
        while suffixes.contains(where: { taken(candidate + $0) }) {
            candidate = "\(stem)_\(counter)"
            counter += 1
        }
        return candidate + codec.fileSuffix + (encrypted ? encryptedSuffix : "")
    }
}

extension BackupName {
    /// The `<db>` part of a valid name (`backup_<db>_<YYYYMMDD>_<HHMMSS>[_N].sql.gz|.sql.zst[.age]`), read from
    /// the end as `isValid` does: with the collision counter first, then without.
    static func databasePart(_ name: String) -> String? {
        guard isValid(name), let suffix = suffix(of: name) else { return nil }
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
