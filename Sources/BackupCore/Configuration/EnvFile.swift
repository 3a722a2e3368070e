import Foundation

/// Reads `KEY=VALUE` files without executing them: `#` comments, blank lines, an optional `export `,
/// and values in single or double quotes.
public enum EnvFile {
    public static func read(path: String) throws -> [String: String] {
        guard let handle = FileHandle(forReadingAtPath: path), let data = try? handle.readToEnd() ?? Data() else {
            throw BackupError.invalidConfiguration(variable: "env file", value: path, reason: "cannot read the file")
        }
        try? handle.close()
        return try parse(String(decoding: data, as: UTF8.self), source: path)
    }

    /// Parses env-file text. Errors name the file, the line and the key, never a value (it may be a password).
    public static func parse(_ text: String, source: String = "env file") throws -> [String: String] {
        var result: [String: String] = [:]
        let lines = Array(text.utf8).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        for (index, rawLine) in lines.enumerated() {
            let location = "\(source) line \(index + 1)"
            var line = String(decoding: rawLine.last == UInt8(ascii: "\r") ? rawLine.dropLast() : rawLine, as: UTF8.self)
                .trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
            guard let equals = line.firstIndex(of: "=") else {
                throw BackupError.invalidConfiguration(variable: location, value: "(not shown)", reason: "expected KEY=VALUE")
            }
            let key = String(line[..<equals]).trimmingCharacters(in: .whitespaces)
            guard isValidKey(key) else {
                throw BackupError.invalidConfiguration(
                    variable: location, value: String(key.prefix(40)), reason: "not a valid variable name")
            }
            result[key] = try unquote(
                String(line[line.index(after: equals)...]).trimmingCharacters(in: .whitespaces),
                location: "\(location) (\(key))")
        }
        return result
    }

    private static func isValidKey(_ key: String) -> Bool {
        guard let first = key.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic)
        else { return false }
        return key.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && $0.properties.isAlphabetic) || ("0"..."9").contains($0) }
    }

    /// Removes one pair of quotes: the closing quote is the first unescaped one, and only blanks or a `#`
    /// comment may follow it. Double quotes understand `\"`, `\\`, `\n` and `\t`; single quotes nothing.
    private static func unquote(_ value: String, location: String) throws -> String {
        guard let quote = value.first, quote == "\"" || quote == "'" else {
            // Unquoted: a ` #` starts a comment, as in shell env files.
            if let hash = value.range(of: " #") { return String(value[..<hash.lowerBound]).trimmingCharacters(in: .whitespaces) }
            return value
        }
        var out = ""
        var escaped = false
        var closing: String.Index?
        var index = value.index(after: value.startIndex)
        while index < value.endIndex {
            let character = value[index]
            if escaped {
                switch character {
                case "n": out.append("\n")
                case "t": out.append("\t")
                default: out.append(character)
                }
                escaped = false
            } else if character == "\\" && quote == "\"" {
                escaped = true
            } else if character == quote {
                closing = index
                break
            } else {
                out.append(character)
            }
            index = value.index(after: index)
        }
        guard let closing else {
            throw BackupError.invalidConfiguration(variable: location, value: "(not shown)", reason: "unterminated quote")
        }
        let rest = value[value.index(after: closing)...].trimmingCharacters(in: .whitespaces)
        guard rest.isEmpty || rest.hasPrefix("#") else {
            throw BackupError.invalidConfiguration(variable: location, value: "(not shown)", reason: "text after the closing quote")
        }
        return out
    }
}
