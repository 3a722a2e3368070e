import Foundation
import TestSupport
import Testing

/// One stack for the cross-site suite: a PostgreSQL cluster with the sample schema, nginx, and the responder, with
/// retention that keeps one backup, and two old backups on disk. So every forged request would leave a trace if it
/// got through: a create adds a backup, cleanup deletes the older one, DELETE the newer one, a restore changes the
/// database.
final class CrossSiteFixture: @unchecked Sendable {
    let cluster: PostgresCluster
    let database: String
    let stack: NginxStack
    /// The backup cleanup would delete, and the one DELETE and verify are sent to.
    let old: String
    let target: String

    init() throws {
        cluster = try PostgresCluster.start()
        do {
            database = CLITestContext.uniqueName("xsite")
            try cluster.createDatabase(database)
            try SampleSchema.load(into: database, on: cluster)
            stack = try NginxStack(cluster: cluster, database: database,
                                   settings: ["BACKUP_MAX_COUNT": "1", "BACKUP_RETENTION_DAYS": "1"])
        } catch {
            cluster.destroy()
            throw error
        }
        old = "backup_\(database)_20200101_120000.sql.gz"
        target = "backup_\(database)_20200102_120000.sql.gz"
    }

    func stop() {
        stack.stop()
        cluster.destroy()
    }

    /// Puts the two old backups back if a request (a control that was allowed) removed them.
    func ensureBackups() throws {
        for (timestamp, createdAt) in [("20200101_120000", "2020-01-01T12:00:00"), ("20200102_120000", "2020-01-02T12:00:00")] {
            let name = "backup_\(database)_\(timestamp).sql.gz"
            guard !FileManager.default.fileExists(atPath: stack.backupDir.appendingPathComponent(name + ".json").path) else { continue }
            _ = try BackupFiles.writeOldToolBackup(
                dump: Data("SELECT 1;\n--\n-- PostgreSQL database dump complete\n--\n".utf8), database: database,
                timestamp: timestamp, createdAt: createdAt, description: "old", in: stack.backupDir)
        }
    }

    /// What the test compares before and after: every file below BACKUP_DIR with its SHA-256, and the database.
    struct State: Equatable {
        var files: [String: String]
        var database: DatabaseFacts
    }

    func state() throws -> State {
        State(files: try stack.snapshot(), database: try DatabaseFacts.read(database, on: cluster))
    }

    /// The API's own origin as a browser on this machine writes it.
    var ownOrigin: String { stack.baseURL }
    var host: String { "127.0.0.1:\(stack.port)" }

    // MARK: - The matrix

    static let methods = ["POST", "DELETE", "PUT", "PATCH"]

    /// Every path that has a method that changes something.
    var paths: [String] {
        ["/api/backups", "/api/backups/cleanup", "/api/backups/restore", "/api/backups/\(target)",
         "/api/backups/\(target)/verify"]
    }

    /// The bodies an HTML form can send (the only requests another site can make a browser send with credentials
    /// and without a CORS preflight), with the Content-Type the browser gives them.
    enum FormBody: String, CaseIterable, Sendable {
        case empty, form, textPlain, multipart

        var contentType: String {
            switch self {
            case .empty, .form: "application/x-www-form-urlencoded"
            case .textPlain: "text/plain"
            case .multipart: "multipart/form-data; boundary=----pgbackupforged"
            }
        }

        /// `target` goes into the fields a JSON reading of the body would take (the text/plain trick: a form field
        /// named `{"backup_filename": "…", "x": "` and valued `"}` arrives as JSON-looking text).
        func body(target: String) -> Data {
            switch self {
            case .empty: return Data()
            case .form: return Data("dry_run=false&description=forged&backup_filename=\(target)".utf8)
            case .textPlain:
                return Data(#"{"backup_filename": "\#(target)", "description": "forged", "x": "="}"#.utf8)
            case .multipart:
                return Data(("------pgbackupforged\r\nContent-Disposition: form-data; name=\"dry_run\"\r\n\r\nfalse\r\n"
                    + "------pgbackupforged\r\nContent-Disposition: form-data; name=\"backup_filename\"\r\n\r\n\(target)\r\n"
                    + "------pgbackupforged--\r\n").utf8)
            }
        }
    }

    /// What a browser on another site sends.
    enum Forgery: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case foreignOrigin, fetchSiteCrossSite, nullOrigin

        var headers: [String: String] {
            switch self {
            case .foreignOrigin: ["Origin": "https://evil.example"]
            case .fetchSiteCrossSite: ["Sec-Fetch-Site": "cross-site"]
            case .nullOrigin: ["Origin": "null"]
            }
        }

        var testDescription: String {
            switch self {
            case .foreignOrigin: "Origin: https://evil.example"
            case .fetchSiteCrossSite: "Sec-Fetch-Site: cross-site"
            case .nullOrigin: "Origin: null"
            }
        }
    }

    /// What curl, scripts and a page of the API's own origin send.
    enum Legitimate: String, CaseIterable, Sendable {
        case noBrowserHeaders, ownOrigin, ownOriginSameOrigin, typedByUser

        func headers(ownOrigin: String) -> [String: String] {
            switch self {
            case .noBrowserHeaders: [:]
            case .ownOrigin: ["Origin": ownOrigin]
            case .ownOriginSameOrigin: ["Origin": ownOrigin, "Sec-Fetch-Site": "same-origin"]
            case .typedByUser: ["Sec-Fetch-Site": "none"]
            }
        }
    }

    /// Today's answer (status, error code) to a request without browser headers, with the two backups present.
    func todaysAnswer(_ method: String, _ path: String, _ body: FormBody) -> (Int, String?) {
        let serves: String = switch path {
        case "/api/backups/\(target)": "DELETE"
        default: "POST"
        }
        guard method == serves else { return (405, "method_not_allowed") }
        // Every operation checks its body, DELETE too (it takes no fields): a form body is never JSON.
        guard body == .empty else { return (415, "unsupported_media_type") }
        if method == "DELETE" { return (200, nil) }
        switch path {
        case "/api/backups": return (201, nil)
        case "/api/backups/restore": return (400, "invalid_input")
        default: return (200, nil)
        }
    }
}

/// Gives the suite one `CrossSiteFixture`, stopped when the suite ends.
struct CrossSiteFixtureTrait: SuiteTrait, TestScoping {
    var isRecursive: Bool { false }

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let fixture = try CrossSiteFixture()
        defer { fixture.stop() }
        try await CrossSiteFixture.$current.withValue(fixture) {
            try await function()
        }
    }
}

extension CrossSiteFixture {
    @TaskLocal static var current: CrossSiteFixture?

    static func require() throws -> CrossSiteFixture {
        guard let fixture = current else { throw HarnessError.setup("this suite needs the .crossSiteFixture trait") }
        return fixture
    }
}

extension Trait where Self == CrossSiteFixtureTrait {
    static var crossSiteFixture: Self { Self() }
}

/// The three browser-facing headers exactly once each, HSTS where nginx answered, and no CORS permission.
func expectBrowserHeaders(_ response: HTTPResponse, throughNginx: Bool, _ label: String,
                          sourceLocation: SourceLocation = #_sourceLocation) {
    var expected = [
        ("x-content-type-options", "nosniff"),
        ("content-security-policy", "default-src 'none'; frame-ancestors 'none'"),
        ("cache-control", "no-store"),
    ]
    if throughNginx { expected.append(("strict-transport-security", "max-age=63072000")) }
    for (name, value) in expected {
        let values = response.headers.filter { $0.name.lowercased() == name }.map(\.value)
        #expect(values == [value], "\(label): \(name) \(values)", sourceLocation: sourceLocation)
    }
    let cors = response.headers.filter { $0.name.lowercased().hasPrefix("access-control-") }
    #expect(cors.isEmpty, "\(label): \(cors)", sourceLocation: sourceLocation)
}
