/// The healthchecks.io ping protocol: `URL/start` when a run begins, `URL` when it succeeded, `URL/fail` when it
/// failed (the body may carry a short message, which healthchecks.io shows).
public enum HealthcheckPing: String, Sendable, CaseIterable {
    case start, success, failure

    public func url(base: String) -> String {
        // A query string (rare) stays at the end: `https://host/ping/uuid?rid=1` → `…/uuid/start?rid=1`.
        let parts = base.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var path = String(parts[0])
        while path.hasSuffix("/") { path.removeLast() }
        let suffix: String
        switch self {
        case .start: suffix = "/start"
        case .success: suffix = ""
        case .failure: suffix = "/fail"
        }
        return path + suffix + (parts.count > 1 ? "?" + parts[1] : "")
    }
}
