import BackupAPI
import BackupCore
import Foundation
import Testing

@Suite("Router: cross-site requests are refused, every answer carries the browser-facing headers")
struct RouterCrossSiteTests {
    static let host = "127.0.0.1:8443"
    static let foreign: [(String, BrowserHeaders)] = [
        ("foreign Origin", BrowserHeaders(origin: "https://evil.example", host: host)),
        ("Origin null", BrowserHeaders(origin: "null", host: host)),
        ("Sec-Fetch-Site cross-site", BrowserHeaders(fetchSite: "cross-site", host: host)),
    ]

    func request(_ method: String, _ uri: String, _ browser: BrowserHeaders, body: String = "",
                 contentType: String? = nil) -> APIRequest {
        var request = APIRequest(method: method, uri: uri, contentType: contentType, body: Array(body.utf8),
                                 remoteUser: "alice")
        request.browser = browser
        return request
    }

    /// Two old backups with retention keeping one: a cleanup that ran would delete the older.
    func fixture() throws -> (RouterFixture, [String]) {
        let fixture = try RouterFixture(maxCount: 1, retentionDays: 1)
        try fixture.makeBackup(ageHours: 72)
        try fixture.makeBackup(ageHours: 48)
        return (fixture, fixture.names())
    }

    @Test("every method that may change something, on every path (unknown ones too), with each body a form can send: 403, nothing changed")
    func refused() throws {
        let (fixture, before) = try fixture()
        let name = before[0]
        let paths = ["/api/backups", "/api/backups/cleanup", "/api/backups/restore", "/api/backups/\(name)",
                     "/api/backups/\(name)/verify", "/api/backups/status", "/api/backups/nothing/here"]
        let bodies: [(String, String?)] = [
            ("", "application/x-www-form-urlencoded"), ("dry_run=false", "application/x-www-form-urlencoded"),
            (#"{"description": "forged"}"#, "text/plain"),
            ("--b\r\nContent-Disposition: form-data; name=\"dry_run\"\r\n\r\nfalse\r\n--b--\r\n", "multipart/form-data; boundary=b"),
            (#"{"dry_run": false}"#, "application/json"),
        ]
        for (label, browser) in Self.foreign {
            for method in ["POST", "DELETE", "PUT", "PATCH"] {
                for path in paths {
                    for (body, type) in bodies {
                        let response = fixture.handle(request(method, path, browser, body: body, contentType: type))
                        try response.expectError(403, "cross_site_request")
                        #expect(fixture.names() == before, "\(label): \(method) \(path) \(type ?? "")")
                    }
                }
            }
        }
        #expect(try fixture.manager.status().state.lastFailure == nil, "a refused request is not a failure")
    }

    @Test("the control: the same cleanup without browser headers, from the own origin, or typed by the user, runs")
    func allowed() throws {
        let own: [BrowserHeaders] = [
            BrowserHeaders(host: Self.host), BrowserHeaders(origin: "https://\(Self.host)", host: Self.host),
            BrowserHeaders(origin: "https://\(Self.host)", fetchSite: "same-origin", host: Self.host),
            BrowserHeaders(fetchSite: "none", host: Self.host),
        ]
        for browser in own {
            let (fixture, before) = try fixture()
            let response = fixture.handle(request("POST", "/api/backups/cleanup", browser))
            let shown = (try? response.jsonBody.serialized()) ?? "(not JSON)"
            #expect(response.status == 200, "\(browser): \(shown)")
            #expect(fixture.names() == Array(before.suffix(2)), "the older backup was deleted")
        }
    }

    @Test("reading is never refused: a foreign page may make the browser GET, but cannot read the answer")
    func readsPass() throws {
        let (fixture, before) = try fixture()
        for (_, browser) in Self.foreign {
            #expect(fixture.handle(request("GET", "/api/backups/status", browser)).status == 200)
            #expect(fixture.handle(request("HEAD", "/api/backups", browser)).status == 200)
            let options = fixture.handle(request("OPTIONS", "/api/backups/cleanup", browser))
            try options.expectError(405, "method_not_allowed")
        }
        #expect(fixture.names() == before)
    }

    @Test("every kind of answer carries nosniff, the CSP and no-store exactly once, and no CORS permission")
    func securityHeaders() throws {
        let (fixture, names) = try fixture()
        let name = names[0]
        var cases: [(String, APIRequest)] = [
            ("list", request("GET", "/api/backups", BrowserHeaders())),
            ("status", request("GET", "/api/backups/status", BrowserHeaders())),
            ("metadata", request("GET", "/api/backups/\(name)", BrowserHeaders())),
            ("download", request("GET", "/api/backups/download/\(name)", BrowserHeaders())),
            ("HEAD download", request("HEAD", "/api/backups/download/\(name)", BrowserHeaders())),
            ("HEAD list", request("HEAD", "/api/backups", BrowserHeaders())),
            ("404", request("GET", "/api/backups/nothing/here", BrowserHeaders())),
            ("405 preflight", request("OPTIONS", "/api/backups", BrowserHeaders(origin: "https://evil.example"))),
            ("403", request("POST", "/api/backups/cleanup", Self.foreign[0].1)),
            ("415", request("POST", "/api/backups/cleanup", BrowserHeaders(), body: "x=1", contentType: "text/plain")),
            ("413", APIRequest(method: "POST", uri: "/api/backups/cleanup", body: nil)),
        ]
        var gzip = request("GET", "/api/backups", BrowserHeaders())
        gzip.acceptEncoding = "gzip"
        cases.append(("gzip list", gzip))
        for (label, request) in cases {
            let response = fixture.handle(request)
            for (name, value) in SecurityHeaders.all {
                let values = response.headers.filter { $0.0.lowercased() == name.lowercased() }.map(\.1)
                #expect(values == [value], "\(label): \(name) \(values)")
            }
            #expect(!response.headers.contains { $0.0.lowercased().hasPrefix("access-control-") }, "\(label)")
        }
        #expect(SecurityHeaders.all.map(\.1) == ["nosniff", "default-src 'none'; frame-ancestors 'none'", "no-store"])
    }
}
