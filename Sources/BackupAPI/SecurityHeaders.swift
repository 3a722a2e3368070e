/// Headers every answer carries (errors, JSON, listings, downloads, HEAD answers alike), so that no answer can be
/// sniffed into HTML, framed by another page or kept by a shared cache. nginx sets the same three on its own
/// answers and replaces the responder's copies, so each appears once.
public enum SecurityHeaders {
    public static let all: [(String, String)] = [
        ("X-Content-Type-Options", "nosniff"),
        ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
        ("Cache-Control", "no-store"),
    ]
}

extension APIResponse {
    /// The answer with each of `SecurityHeaders.all` added unless a header of that name is already there.
    func withSecurityHeaders() -> APIResponse {
        var copy = self
        let present = Set(headers.map { $0.0.lowercased() })
        copy.headers += SecurityHeaders.all.filter { !present.contains($0.0.lowercased()) }
        return copy
    }
}
