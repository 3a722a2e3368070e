import Foundation

/// Takes the database password out of text before it is shown, logged or recorded.
///
/// Only whole tokens go: the value of a `password=` pair, the password part of a `postgres://user:PASS@host`
/// URI, and the exact password where it stands as a word of its own. A password that is part of a longer word
/// ("5" in "port 55498") is left alone: masking it there would garble the message and, with a fixed-width mask in
/// several places, spell out where the password's characters are. Every mask is the same eight stars, so its
/// length tells nothing either.
public enum Redaction {
    public static let mask = "********"

    public static func redact(_ text: String, password: String?) -> String {
        guard let password, !password.isEmpty else { return text }
        var result = text
        // Connection strings first: their values are masked whatever they are, so a URI-encoded or quoted form of
        // the password cannot survive the whole-word pass below.
        result = result.replacing(pairPattern) { match in match.output.1 + mask }
        result = result.replacing(uriPattern) { match in match.output.1 + mask + "@" }
        return maskWholeWords(password, in: result)
    }

    /// `password=secret`, `password = 'a b'`, `PGPASSWORD=secret` (case-insensitive).
    nonisolated(unsafe) private static let pairPattern =
        /(?i)(\b(?:pg)?password\s*[=:]\s*)('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^\s'",;]+)/

    /// `postgres://user:secret@host` and `postgresql://…`.
    nonisolated(unsafe) private static let uriPattern = /(?i)(\bpostgres(?:ql)?:\/\/[^:\/@\s]*:)[^@\s]*@/

    /// Bytes that continue a word: ASCII letters, digits, `_`, and every byte of a non-ASCII character.
    static func isWordByte(_ byte: UInt8) -> Bool {
        byte >= 0x80 || byte == 0x5F || (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte)
            || (0x61...0x7A).contains(byte)
    }

    /// Replaces each occurrence of `word` that does not run on into a neighbouring word character. The check is
    /// made only on an edge of the password that is itself a word character (as a regex `\b` would be).
    static func maskWholeWords(_ word: String, in text: String) -> String {
        let needle = Array(word.utf8)
        let haystack = Array(text.utf8)
        guard !needle.isEmpty, haystack.count >= needle.count else { return text }
        let checkLeft = needle.first.map(isWordByte) ?? false
        let checkRight = needle.last.map(isWordByte) ?? false
        var output: [UInt8] = []
        output.reserveCapacity(haystack.count)
        var index = 0
        var changed = false
        while index < haystack.count {
            if index + needle.count <= haystack.count, haystack[index] == needle[0],
               Array(haystack[index..<(index + needle.count)]) == needle {
                let end = index + needle.count
                let leftOK = !checkLeft || index == 0 || !isWordByte(haystack[index - 1])
                let rightOK = !checkRight || end == haystack.count || !isWordByte(haystack[end])
                if leftOK && rightOK {
                    output.append(contentsOf: Array(mask.utf8))
                    index = end
                    changed = true
                    continue
                }
            }
            output.append(haystack[index])
            index += 1
        }
        return changed ? String(decoding: output, as: UTF8.self) : text
    }
}
