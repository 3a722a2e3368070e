import BackupAPI
import Testing

@Suite("Cross-site check: method and browser headers to allowed or refused")
struct CrossSiteCheckTests {
    static let host = "api.example.test:8443"
    static let own = "https://api.example.test:8443"

    struct Case: CustomTestStringConvertible, Sendable {
        let label: String
        let headers: BrowserHeaders
        /// Whether a request that may change something is refused.
        let refused: Bool
        var testDescription: String { "\(label) -> \(refused ? "refused" : "allowed")" }
    }

    static let cases: [Case] = [
        Case(label: "no browser headers (curl, scripts)", headers: BrowserHeaders(host: host), refused: false),
        Case(label: "no headers and no Host", headers: BrowserHeaders(), refused: false),
        Case(label: "own origin", headers: BrowserHeaders(origin: own, host: host), refused: false),
        Case(label: "own origin, other letter case", headers: BrowserHeaders(origin: "HTTPS://API.Example.test:8443", host: host), refused: false),
        Case(label: "own origin, Sec-Fetch-Site same-origin", headers: BrowserHeaders(origin: own, fetchSite: "same-origin", host: host), refused: false),
        Case(label: "Sec-Fetch-Site none (typed by the user)", headers: BrowserHeaders(fetchSite: "none", host: host), refused: false),
        Case(label: "empty Origin is no Origin", headers: BrowserHeaders(origin: "", host: host), refused: false),
        Case(label: "foreign origin", headers: BrowserHeaders(origin: "https://evil.example", host: host), refused: true),
        Case(label: "Origin null (sandboxed page, file:, data:)", headers: BrowserHeaders(origin: "null", host: host), refused: true),
        Case(label: "plain http on the same host", headers: BrowserHeaders(origin: "http://api.example.test:8443", host: host), refused: true),
        Case(label: "same host, other port", headers: BrowserHeaders(origin: "https://api.example.test", host: host), refused: true),
        Case(label: "own origin as a prefix", headers: BrowserHeaders(origin: own + ".evil.example", host: host), refused: true),
        Case(label: "Origin without a Host to compare", headers: BrowserHeaders(origin: own), refused: true),
        Case(label: "Sec-Fetch-Site cross-site", headers: BrowserHeaders(fetchSite: "cross-site", host: host), refused: true),
        Case(label: "Sec-Fetch-Site same-site", headers: BrowserHeaders(fetchSite: "same-site", host: host), refused: true),
        Case(label: "Sec-Fetch-Site CROSS-SITE", headers: BrowserHeaders(fetchSite: "CROSS-SITE", host: host), refused: true),
        Case(label: "Sec-Fetch-Site unknown value", headers: BrowserHeaders(fetchSite: "elsewhere", host: host), refused: true),
        Case(label: "own origin but Sec-Fetch-Site cross-site", headers: BrowserHeaders(origin: own, fetchSite: "cross-site", host: host), refused: true),
        Case(label: "foreign origin but Sec-Fetch-Site same-origin", headers: BrowserHeaders(origin: "https://evil.example", fetchSite: "same-origin", host: host), refused: true),
    ]

    static let changingMethods = ["POST", "DELETE", "PUT", "PATCH", "BREW", "get"]
    static let safeMethods = ["GET", "HEAD", "OPTIONS"]

    @Test("a method that may change something: refused exactly when the browser says another origin", arguments: cases)
    func changingMethods(_ testCase: Case) {
        for method in Self.changingMethods {
            let refusal = CrossSiteCheck.refusal(method: method, testCase.headers)
            #expect((refusal != nil) == testCase.refused, "\(method): \(refusal ?? "allowed")")
            if let refusal {
                #expect(!refusal.isEmpty && !refusal.contains("\n") && !refusal.hasSuffix("."), "\(refusal)")
            }
        }
    }

    @Test("GET, HEAD and OPTIONS are never refused (they change nothing)", arguments: cases)
    func safeMethods(_ testCase: Case) {
        for method in Self.safeMethods {
            #expect(CrossSiteCheck.refusal(method: method, testCase.headers) == nil, "\(method)")
        }
    }

    @Test("the own origin is https:// plus the Host nginx forwards, lower-cased")
    func ownOrigin() {
        #expect(CrossSiteCheck.ownOrigin(host: "Backup.Example:8443") == "https://backup.example:8443")
        #expect(CrossSiteCheck.ownOrigin(host: "127.0.0.1") == "https://127.0.0.1")
        #expect(CrossSiteCheck.ownOrigin(host: nil) == nil)
        #expect(CrossSiteCheck.ownOrigin(host: " ") == nil)
    }

    @Test("the refusal names the header, and a hostile value is cut short and stripped of control characters")
    func refusalText() throws {
        let foreign = try #require(CrossSiteCheck.refusal(method: "POST", BrowserHeaders(origin: "https://evil.example", host: Self.host)))
        #expect(foreign.contains("https://evil.example") && foreign.contains(Self.own), "\(foreign)")
        let fetch = try #require(CrossSiteCheck.refusal(method: "POST", BrowserHeaders(fetchSite: "cross-site")))
        #expect(fetch.contains("Sec-Fetch-Site: cross-site"), "\(fetch)")
        let hostile = "https://x\u{1b}[31m\r\n" + String(repeating: "a", count: 500)
        let cut = try #require(CrossSiteCheck.refusal(method: "POST", BrowserHeaders(origin: hostile, host: Self.host)))
        #expect(!cut.contains("\u{1b}") && !cut.contains("\n") && !cut.contains("\r"), "\(cut)")
        #expect(cut.count < 300, "\(cut.count) characters")
    }
}
