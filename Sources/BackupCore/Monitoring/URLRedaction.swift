import Foundation

/// Notification URLs may carry credentials (`https://user:pass@host/…`) or be secrets themselves (a token in the
/// path, as healthchecks.io's are): what is logged or shown is only `scheme://host[:port]`.
public enum URLRedaction {
    /// `scheme://host[:port]`, or `(unparsable URL)`.
    public static func redact(_ url: String) -> String {
        guard let parts = split(url) else { return "(unparsable URL)" }
        return "\(parts.scheme)://\(parts.hostAndPort)"
    }

    /// Whether `url` is an http or https URL with a host and no whitespace or control character (it is written
    /// into a curl config line, and a space would not be a URL anyway).
    public static func isHTTPURL(_ url: String) -> Bool {
        guard let parts = split(url), ["http", "https"].contains(parts.scheme.lowercased()),
              !parts.hostAndPort.isEmpty, !parts.hostAndPort.hasPrefix(":") else { return false }
        return !url.unicodeScalars.contains { $0.value <= 0x20 || $0.value == 0x7f }
    }

    /// `text` with every occurrence of the URL, its user information and its path replaced, for messages
    /// (a tool's stderr, say) that might quote them.
    public static func scrub(_ text: String, url: String) -> String {
        var result = text.replacingAll(url, with: redact(url))
        guard let parts = split(url) else { return result }
        for secret in [parts.userinfo, parts.rest] where secret.count >= 2 {
            result = result.replacingAll(secret, with: "…")
        }
        return result
    }

    private struct Parts {
        var scheme: String
        var userinfo: String
        var hostAndPort: String
        var rest: String
    }

    private static func split(_ url: String) -> Parts? {
        guard let separator = url.range(of: "://") else { return nil }
        let scheme = String(url[..<separator.lowerBound])
        guard !scheme.isEmpty, scheme.allSatisfy({ $0.isLetter || $0.isNumber || "+-.".contains($0) }) else { return nil }
        let afterScheme = url[separator.upperBound...]
        let authorityEnd = afterScheme.firstIndex { "/?#".contains($0) } ?? afterScheme.endIndex
        let authority = afterScheme[..<authorityEnd]
        let rest = String(afterScheme[authorityEnd...])
        if let at = authority.lastIndex(of: "@") {
            return Parts(scheme: scheme, userinfo: String(authority[..<at]),
                         hostAndPort: String(authority[authority.index(after: at)...]), rest: rest)
        }
        return Parts(scheme: scheme, userinfo: "", hostAndPort: String(authority), rest: rest)
    }
}

private extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var remaining = self[...]
        while let range = remaining.range(of: target) {
            result += remaining[..<range.lowerBound] + replacement
            remaining = remaining[range.upperBound...]
        }
        return result + remaining
    }
}
