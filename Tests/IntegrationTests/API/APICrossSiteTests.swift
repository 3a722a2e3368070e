import Foundation
import TestSupport
import Testing

/// Cross-site request forgery (issue 17): a browser sends its stored basic-auth credentials along with a form another
/// site submits, so every request that may change something is refused when the browser says it comes from another
/// origin — by nginx, and again by the responder when nginx does not. Each forged request would leave a trace if it
/// got through (see `CrossSiteFixture`); the directory and the database are compared before and after.
@Suite("API: cross-site requests are refused, by nginx and by the responder", .serialized, .crossSiteFixture)
struct APICrossSiteTests {
    typealias Body = CrossSiteFixture.FormBody

    /// Every mutating path × method × form body with the forged headers: 403, and nothing changed.
    func refusedMatrix(_ forgery: CrossSiteFixture.Forgery,
                       send: @escaping @Sendable (String, String, Data, String, [String: String]) throws -> HTTPResponse,
                       throughNginx: Bool) throws {
        let fixture = try CrossSiteFixture.require()
        try fixture.ensureBackups()
        let before = try fixture.state()
        var requests: [(method: String, path: String, body: Body)] = []
        for path in fixture.paths {
            for method in CrossSiteFixture.methods {
                for body in Body.allCases { requests.append((method, path, body)) }
            }
        }
        #expect(requests.count == 80)
        let all = requests
        // Refused requests change nothing, so they may run side by side; the comparison comes after all of them.
        let responses = try Self.concurrently(requests.count) { index in
            let request = all[index]
            return try send(request.method, request.path, request.body.body(target: fixture.target),
                            request.body.contentType, forgery.headers)
        }
        for (request, response) in zip(requests, responses) {
            let label = "\(forgery.testDescription): \(request.method) \(request.path) \(request.body)"
            expectAPIError(response, 403, "cross_site_request", label)
            expectBrowserHeaders(response, throughNginx: throughNginx, label)
        }
        #expect(try fixture.state() == before, "a forged request changed the backup directory or the database")
    }

    /// Runs `count` calls of `body` on 8 threads; the results in index order, or the first error.
    static func concurrently<T>(_ count: Int, _ body: @escaping @Sendable (Int) throws -> T) throws -> [T] {
        let lock = NSLock()
        nonisolated(unsafe) var results = [Result<T, Error>?](repeating: nil, count: count)
        let group = DispatchGroup()
        let gate = DispatchSemaphore(value: 8)
        for index in 0..<count {
            gate.wait()
            group.enter()
            DispatchQueue.global().async {
                let result = Result { try body(index) }
                lock.withLock { results[index] = result }
                gate.signal()
                group.leave()
            }
        }
        group.wait()
        return try results.map { try ($0 ?? .failure(HarnessError.setup("no result"))).get() }
    }

    @Test("through nginx: every mutating path × method × form body from another site is 403 and changes nothing",
          arguments: CrossSiteFixture.Forgery.allCases)
    func refusedThroughNginx(_ forgery: CrossSiteFixture.Forgery) throws {
        let stack = try CrossSiteFixture.require().stack
        try refusedMatrix(forgery, send: { method, path, body, type, headers in
            try stack.request(method, path, body: body, contentType: type, headers: headers.map { "\($0.key): \($0.value)" })
        }, throughNginx: true)
        // nginx refused them itself: the detail is its own, capitalised sentence.
        let sample = try stack.request("POST", "/api/backups/cleanup", headers: forgery.headers.map { "\($0.key): \($0.value)" })
        #expect(try sample.object()["detail"] as? String == "A request from another web site may not change anything: "
            + "send it from a page of this site, or with a client that sends no Origin header (curl, scripts).")
    }

    @Test("the responder alone (no nginx in front): the same matrix is 403 and changes nothing",
          arguments: CrossSiteFixture.Forgery.allCases)
    func refusedByTheResponder(_ forgery: CrossSiteFixture.Forgery) throws {
        let fixture = try CrossSiteFixture.require()
        let socket = fixture.stack.socketPath
        try refusedMatrix(forgery, send: { method, path, body, type, headers in
            try DirectFastCGI.request(socket: socket, method, path, body: body, contentType: type,
                                      headers: headers.merging(["Host": fixture.host]) { old, _ in old })
        }, throughNginx: false)
    }

    @Test("without browser headers, or from the API's own origin: today's answers, through nginx and to the responder alone",
          arguments: CrossSiteFixture.Legitimate.allCases, [true, false])
    func legitimateRequests(_ kind: CrossSiteFixture.Legitimate, throughNginx: Bool) throws {
        let fixture = try CrossSiteFixture.require()
        let headers = kind.headers(ownOrigin: fixture.ownOrigin)
        for path in fixture.paths {
            for method in CrossSiteFixture.methods {
                for body in Body.allCases {
                    try fixture.ensureBackups()
                    let label = "\(kind) via \(throughNginx ? "nginx" : "FastCGI"): \(method) \(path) \(body)"
                    let data = body.body(target: fixture.target)
                    let response = throughNginx
                        ? try fixture.stack.request(method, path, body: data, contentType: body.contentType,
                                                    headers: headers.map { "\($0.key): \($0.value)" })
                        : try DirectFastCGI.request(socket: fixture.stack.socketPath, method, path, body: data,
                                                    contentType: body.contentType, headers: headers.merging(["Host": fixture.host]) { old, _ in old })
                    let (status, code) = fixture.todaysAnswer(method, path, body)
                    if let code {
                        expectAPIError(response, status, code, label)
                    } else {
                        #expect(response.status == status, "\(label): \(response)")
                        #expect(try response.object()["success"] as? Bool == true, "\(label)")
                    }
                    expectBrowserHeaders(response, throughNginx: throughNginx, label)
                }
            }
        }
        // The allowed controls really acted: the creates made backups, the DELETEs removed the target.
        #expect(try fixture.stack.snapshot().keys.contains { $0.hasSuffix(".sql.gz") && !$0.contains("_2020") })
    }

    @Test("reads from another site are answered (the browser never lets that site read them): GET and HEAD pass")
    func readsPass() throws {
        let fixture = try CrossSiteFixture.require()
        try fixture.ensureBackups()
        for forgery in CrossSiteFixture.Forgery.allCases {
            let headers = forgery.headers.map { "\($0.key): \($0.value)" }
            let list = try fixture.stack.request("GET", "/api/backups", headers: headers)
            #expect(list.status == 200, "\(forgery.testDescription): \(list)")
            expectBrowserHeaders(list, throughNginx: true, "list \(forgery.testDescription)")
            #expect(try fixture.stack.request("HEAD", "/api/backups/status", headers: headers).status == 200)
        }
    }

    @Test("no CORS: a preflight gets 401 without credentials and a JSON 405 with them, never Access-Control-Allow-*")
    func preflightGetsNoPermission() throws {
        let stack = try CrossSiteFixture.require().stack
        let preflight = ["Origin: https://evil.example", "Access-Control-Request-Method: POST",
                         "Access-Control-Request-Headers: content-type, authorization"]
        for path in ["/api/backups", "/api/backups/cleanup", "/api/backups/status"] {
            // A browser sends a preflight without credentials.
            let anonymous = try stack.request("OPTIONS", path, headers: preflight, credentials: .none)
            expectAPIError(anonymous, 401, "unauthorized", "OPTIONS \(path)")
            expectBrowserHeaders(anonymous, throughNginx: true, "OPTIONS \(path) without credentials")
            let authenticated = try stack.request("OPTIONS", path, headers: preflight)
            expectAPIError(authenticated, 405, "method_not_allowed", "OPTIONS \(path)")
            #expect(authenticated.header("Allow")?.contains("OPTIONS") == false)
            expectBrowserHeaders(authenticated, throughNginx: true, "OPTIONS \(path) with credentials")
        }
    }

    @Test("every kind of answer through nginx carries nosniff, the CSP, no-store and HSTS exactly once")
    func everyAnswerCarriesTheHeaders() throws {
        let fixture = try CrossSiteFixture.require()
        let stack = fixture.stack
        try fixture.ensureBackups()
        let name = fixture.target
        let download = stack.scratch.appending("download.gz")
        let cases: [(String, () throws -> HTTPResponse, Int)] = [
            ("list", { try stack.get("/api/backups") }, 200),
            ("gzip list", { try stack.request("GET", "/api/backups", headers: ["Accept-Encoding: gzip"]) }, 200),
            ("status", { try stack.get("/api/backups/status") }, 200),
            ("metadata", { try stack.get("/api/backups/\(name)") }, 200),
            ("download", { try stack.request("GET", "/api/backups/download/\(name)", saveBodyTo: download) }, 200),
            ("HEAD download", { try stack.request("HEAD", "/api/backups/download/\(name)") }, 200),
            ("HEAD list", { try stack.request("HEAD", "/api/backups") }, 200),
            ("verify", { try stack.post("/api/backups/\(name)/verify") }, 200),
            ("responder 404", { try stack.get("/api/backups/backup_nothing_20200101_000000.sql.gz") }, 404),
            ("responder 400", { try stack.get("/api/backups/not-a-name") }, 400),
            ("nginx 404", { try stack.get("/elsewhere") }, 404),
            ("nginx 401", { try stack.request("GET", "/api/backups", credentials: .none) }, 401),
            ("nginx 413", { try stack.request("POST", "/api/backups", body: Data(count: 70_000)) }, 413),
            ("responder 415", { try stack.request("POST", "/api/backups/cleanup", body: Data("x".utf8), contentType: "text/plain") }, 415),
            ("nginx 403", { try stack.request("POST", "/api/backups/cleanup", headers: ["Origin: null"]) }, 403),
        ]
        for (label, send, status) in cases {
            let response = try send()
            #expect(response.status == status, "\(label): \(response)")
            expectBrowserHeaders(response, throughNginx: true, label)
        }
        // The responder sets them too (for an nginx that does not), once each.
        for path in ["/api/backups", "/api/backups/status", "/api/backups/download/\(name)", "/api/backups/nothing/here"] {
            let direct = try DirectFastCGI.request(socket: stack.socketPath, "GET", path)
            expectBrowserHeaders(direct, throughNginx: false, "responder alone: GET \(path)")
        }
    }
}
