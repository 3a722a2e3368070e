import Foundation

/// What a browser says about where a request comes from, as nginx forwards it (`HTTP_ORIGIN`,
/// `HTTP_SEC_FETCH_SITE`, `HTTP_HOST`). curl, scripts and CI pipelines send neither `Origin` nor `Sec-Fetch-Site`.
public struct BrowserHeaders: Sendable, Equatable {
    public var origin: String?
    public var fetchSite: String?
    public var host: String?

    public init(origin: String? = nil, fetchSite: String? = nil, host: String? = nil) {
        self.origin = origin
        self.fetchSite = fetchSite
        self.host = host
    }
}

/// Cross-site request forgery: a browser sends its stored basic-auth credentials along when a page of another site
/// submits a form here, so a request that changes anything is refused when the browser says it comes from another
/// origin. nginx makes the same decision (`nginx/pgbackup.conf`); this copy holds when nginx is misconfigured.
public enum CrossSiteCheck {
    /// Methods that change nothing (a preflight `OPTIONS` is answered 405 without any CORS permission).
    static let safeMethods: Set<String> = ["GET", "HEAD", "OPTIONS"]
    /// `Sec-Fetch-Site` values of a request a person made on this site or typed themselves.
    static let ownFetchSites: Set<String> = ["same-origin", "none"]

    /// The API's own origin: `https://` plus the `Host` the client sent (nginx serves TLS only). A browser
    /// cannot choose the Host of a request another site makes it send, and its credentials and the certificate
    /// are both bound to that host.
    public static func ownOrigin(host: String?) -> String? {
        guard let host = host?.trimmingCharacters(in: .whitespaces), !host.isEmpty else { return nil }
        return "https://" + host.lowercased()
    }

    /// Why the request must be refused (one sentence), or nil when it may go on.
    public static func refusal(method: String, _ headers: BrowserHeaders) -> String? {
        guard !safeMethods.contains(method) else { return nil }
        if let site = headers.fetchSite?.trimmingCharacters(in: .whitespaces).lowercased(), !site.isEmpty, !ownFetchSites.contains(site) {
            return "the browser reports this request as Sec-Fetch-Site: \(printable(site)), and a request from "
                + "another site may not change anything"
        }
        if let origin = headers.origin?.trimmingCharacters(in: .whitespaces), !origin.isEmpty {
            guard let own = ownOrigin(host: headers.host), origin.lowercased() == own else {
                return "a request from another origin (\(printable(origin))) may not change anything; "
                    + "send it without an Origin header or from \(ownOrigin(host: headers.host).map(printable) ?? "this API's own origin")"
            }
        }
        return nil
    }

    /// A header value as it may appear in an error sentence: printable ASCII, at most 100 characters.
    static func printable(_ text: String) -> String {
        let kept = text.unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7f }
        let short = String(String.UnicodeScalarView(kept.prefix(100)))
        return kept.count > 100 ? short + "…" : short
    }
}
