import Foundation
import Testing

/// Readers and operators (issue 18): readers may GET/HEAD list, status, metadata, jobs and metrics; everything else,
/// downloads included, needs an operator. nginx enforces it (operators.htpasswd) and the responder checks again
/// (PGBACKUP_OPERATORS). What reached the responder is read from nginx's access log (local.sh logs the upstream).
@Suite("API roles: readers, operators, nobody", .serialized)
final class APIRoleTests {
    static let name = "backup_appdb_20260101_120000.sql.gz"
    static let jobID = String(repeating: "0", count: 32)
    static let paths = [
        "/api/backups", "/api/backups/status", "/api/backups/\(name)", "/api/backups/download/\(name)",
        "/api/backups/\(name)/verify", "/api/backups/restore", "/api/backups/cleanup", "/api/backups/jobs",
        "/api/backups/jobs/\(jobID)", "/api/backups/metrics", "/api/backups/\(name)/drill", "/api/backups/push",
        "/api/backups/sync",
    ]
    static let methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

    static func readerMayAsk(_ method: String, _ path: String) -> Bool {
        (method == "GET" || method == "HEAD") && !path.contains("/download/")
    }

    let stack: NginxStack

    init() throws { stack = try NginxStack() }
    deinit { stack.stop() }

    func placeBackup() throws {
        _ = try DownloadFixture.write(size: 4096, in: stack.backupDir)
    }

    /// Access-log lines written since `offset`: nginx's combined format plus `upstream=ADDR` (local.sh).
    func accessLog(from offset: Int) throws -> [(user: String, method: String, path: String, status: Int, reached: Bool)] {
        let text = try String(contentsOf: stack.nginxDir.appendingPathComponent("access.log"), encoding: .utf8)
        let pattern = #/^\S+ - (\S+) \[[^\]]*\] "(\S+) (\S+) [^"]*" (\d+) \d+ "[^"]*" "[^"]*" upstream=(\S+)$/#
        return text.utf8.count <= offset ? [] : String(decoding: Array(text.utf8)[offset...], as: UTF8.self)
            .split(separator: "\n").compactMap { line in
                guard let match = try? pattern.wholeMatch(in: String(line)) else { return nil }
                return (String(match.1), String(match.2), String(match.3), Int(match.4) ?? 0, match.5 != "-")
            }
    }

    func accessLogSize() -> Int {
        (try? FileManager.default.attributesOfItem(atPath: stack.nginxDir.appendingPathComponent("access.log").path)[.size] as? Int) ?? 0
    }

    @Test("every path × method × {operator, reader, nobody}: nginx lets through exactly what each role may do")
    func matrix() throws {
        try placeBackup()
        let who: [(String, NginxStack.Credentials)] = [("reader", .reader), ("nobody", .none), ("operator", .valid)]
        for (role, credentials) in who {
            let offset = accessLogSize()
            var sent = 0
            for path in Self.paths {
                for method in Self.methods {
                    let body = method == "POST" ? Data(#"{"dry_run": true}"#.utf8) : nil
                    let response = try stack.request(method, path, body: body, credentials: credentials, timeout: 60)
                    sent += 1
                    let label = "\(role): \(method) \(path) → \(response)"
                    switch role {
                    case "nobody":
                        #expect(response.status == 401, "\(label)")
                        if method != "HEAD" { expectAPIError(response, 401, "unauthorized", label) }
                    case "reader" where !Self.readerMayAsk(method, path):
                        #expect(response.status == 403, "\(label)")
                        if method != "HEAD" { expectAPIError(response, 403, "forbidden", label) }
                    default:
                        #expect(response.status != 401 && response.status != 403, "\(label)")
                    }
                }
            }
            let lines = try accessLog(from: offset)
            #expect(lines.count == sent, "\(role): \(lines.count) access-log lines for \(sent) requests")
            for line in lines {
                let label = "\(role): \(line.method) \(line.path) \(line.status)"
                switch role {
                case "nobody": #expect(!line.reached, "\(label) reached the responder")
                case "reader": #expect(line.reached == Self.readerMayAsk(line.method, line.path), "\(label): reached=\(line.reached)")
                default: #expect(line.reached, "\(label) did not reach the responder")
                }
            }
        }
    }

    @Test("a reader's restore and delete never reach the responder; the backup stays")
    func readerRestoreStopsAtNginx() throws {
        try placeBackup()
        let before = try stack.snapshot()
        let offset = accessLogSize()
        let restore = try stack.post("/api/backups/restore", json: #"{"backup_filename": "\#(Self.name)"}"#, credentials: .reader)
        expectAPIError(restore, 403, "forbidden", "reader restore")
        let delete = try stack.request("DELETE", "/api/backups/\(Self.name)", credentials: .reader)
        expectAPIError(delete, 403, "forbidden", "reader delete")
        #expect(try accessLog(from: offset).allSatisfy { !$0.reached })
        #expect(try stack.snapshot() == before)
        let log = stack.stopResponder()?.err ?? ""
        #expect(!log.contains("api request"), "the responder saw the reader's requests:\n\(log)")
    }

    @Test("with nginx letting a reader through (operators.htpasswd = htpasswd), the responder still answers 403")
    func responderChecksAgain() throws {
        try placeBackup()
        let before = try stack.snapshot()
        // nginx reads the user files on every request: no reload needed.
        let everyone = stack.nginxDir.appendingPathComponent("htpasswd")
        let operators = stack.nginxDir.appendingPathComponent("operators.htpasswd")
        try Data(contentsOf: everyone).write(to: operators)
        let offset = accessLogSize()
        let restore = try stack.post("/api/backups/restore", json: #"{"backup_filename": "\#(Self.name)"}"#, credentials: .reader)
        expectAPIError(restore, 403, "forbidden", "reader restore via a lax nginx")
        #expect(restore.text.contains("'monitor' may only read"), "\(restore)")
        let download = try stack.request("GET", "/api/backups/download/\(Self.name)", credentials: .reader)
        expectAPIError(download, 403, "forbidden", "reader download via a lax nginx")
        let delete = try stack.request("DELETE", "/api/backups/\(Self.name)", credentials: .reader)
        expectAPIError(delete, 403, "forbidden", "reader delete via a lax nginx")
        let lines = try accessLog(from: offset)
        #expect(lines.count == 3 && lines.allSatisfy(\.reached), "these did reach the responder: \(lines)")
        #expect(try stack.snapshot() == before)
        // The operator still works, and reads stay open to the reader.
        #expect(try stack.request("GET", "/api/backups/status", credentials: .reader).status == 200)
        #expect(try stack.request("GET", "/api/backups/download/\(Self.name)").status == 200)
    }
}

@Suite("API roles: PGBACKUP_OPERATORS unset or *", .serialized)
struct APIOperatorSettingTests {
    @Test("unset: nobody may change anything or download (403 naming the variable), reads still work")
    func unsetFailsClosed() throws {
        let stack = try NginxStack(settings: ["PGBACKUP_OPERATORS": ""])
        defer { stack.stop() }
        let fixture = try DownloadFixture.write(size: 1024, in: stack.backupDir)
        let delete = try stack.request("DELETE", "/api/backups/\(fixture.name)")
        expectAPIError(delete, 403, "forbidden", "operator delete with PGBACKUP_OPERATORS unset")
        #expect(delete.text.contains("PGBACKUP_OPERATORS"), "\(delete)")
        #expect(FileManager.default.fileExists(atPath: stack.backupDir.appendingPathComponent(fixture.name).path))
        #expect(try stack.get("/api/backups/status").status == 200)
        let log = stack.stopResponder()?.err ?? ""
        #expect(log.contains("PGBACKUP_OPERATORS is not set"), "the responder warns at startup:\n\(log)")
    }

    @Test("*: every authenticated user is an operator for the responder (an install with one htpasswd file)")
    func starAllowsEveryone() throws {
        let stack = try NginxStack(settings: ["PGBACKUP_OPERATORS": "*"])
        defer { stack.stop() }
        let fixture = try DownloadFixture.write(size: 1024, in: stack.backupDir)
        let delete = try stack.request("DELETE", "/api/backups/\(fixture.name)")
        #expect(delete.status == 200, "\(delete)")
        #expect(!FileManager.default.fileExists(atPath: stack.backupDir.appendingPathComponent(fixture.name).path))
    }
}
