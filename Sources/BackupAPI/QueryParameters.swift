import BackupCore

extension Router.Route {
    /// The query parameters a route honours; any other is refused, so a typo or a parameter from another API
    /// (`?dry_run=true` on a route that ignores it) can never run a real operation silently.
    var queryParameters: Set<String> {
        switch self {
        case .cleanup: ["dry_run"]
        default: []
        }
    }
}

/// The query string of a request, checked against what its route honours: unknown, repeated or malformed
/// parameters are a 400 that names them.
struct QueryParameters {
    private var values: [String: String] = [:]

    init(uri: String, allowed: Set<String>) throws {
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return }
        for pair in parts[1].split(separator: "&") {
            let keyValue = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let key = Router.percentDecode(keyValue[0].replacingOccurrences(of: "+", with: " ")),
                  let value = Router.percentDecode((keyValue.count == 2 ? keyValue[1] : "").replacingOccurrences(of: "+", with: " "))
            else {
                throw RequestError(400, "invalid_query", "the query string is not valid percent-encoded UTF-8")
            }
            let shown = EchoedText.shown(key, limit: 64)
            guard allowed.contains(key) else {
                let known = allowed.sorted().joined(separator: ", ")
                throw RequestError(400, "unknown_query_parameter",
                                   "unknown query parameter '\(shown)'" + (known.isEmpty ? "; this path takes none" : "; allowed: \(known)"))
            }
            guard values[key] == nil else {
                throw RequestError(400, "invalid_query", "query parameter '\(shown)' is given more than once")
            }
            values[key] = value
        }
    }

    /// `true`/`false` (also `1`/`0`, `yes`/`no`, any case); nil when absent.
    func bool(_ key: String) throws -> Bool? {
        guard let value = values[key] else { return nil }
        switch value.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default:
            throw RequestError(400, "invalid_query", "query parameter '\(key)' must be true or false")
        }
    }

    /// A setting given both in the query and in the body must say the same thing in both.
    func agreeing<Value: Equatable>(_ fromQuery: Value?, withBody fromBody: Value?, field: String) throws -> Value? {
        if let fromQuery, let fromBody, fromQuery != fromBody {
            throw RequestError(400, "invalid_query", "'\(field)' in the query string contradicts '\(field)' in the body")
        }
        return fromQuery ?? fromBody
    }
}
