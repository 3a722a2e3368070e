import Foundation
import TestSupport
import Testing

/// deploy/quickstart.sh end to end, as a newcomer would run it, on free ports and in a state
/// directory of its own (PGBACKUP_QUICKSTART_DIR) so a developer's ./local/ is left alone.
/// The binaries come from the test build (PGBACKUP_BIN_DIR): the script's release build step is
/// the one part not run here (it would rebuild everything in release mode).
@Suite("deploy/quickstart.sh", .serialized)
struct QuickstartTests {
    struct Run {
        let state: String
        let httpsPort: Int
        let pgPort: Int

        var script: String { Paths.deploy + "/quickstart.sh" }

        var environment: [String: String?] {
            var env: [String: String?] = [
                "PGBACKUP_QUICKSTART_DIR": state,
                "PGBACKUP_HTTPS_PORT": String(httpsPort),
                "PGBACKUP_QUICKSTART_PG_PORT": String(pgPort),
                "PGBACKUP_BIN_DIR": Paths.binaries,
                "PGBACKUP_ENV_FILE": nil,
                "PGBACKUP_HTTP_USER": nil,
                "PGBACKUP_HTTP_PASSWORD": nil,
            ]
            for name in ["POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD",
                         "POSTGRES_PASSWORD_FILE", "BACKUP_DIR"] {
                env[name] = .some(nil)
            }
            return env
        }

        func start() throws -> ProcessResult { try Command.run(script, [], environment: environment, timeout: 300) }
        func stop(_ extra: [String] = []) throws -> ProcessResult {
            try Command.run(script, ["stop"] + extra, environment: environment, timeout: 120)
        }

        /// curl through nginx with credentials from a config file (not argv); returns status and body.
        func get(_ path: String, credentials: String?) throws -> (status: Int, body: Data) {
            let scratch = try TemporaryDirectory(prefix: "curl")
            defer { scratch.remove() }
            var config = "silent\ninsecure\nmax-time = 60\noutput = \"\(scratch.path)/body\"\nwrite-out = \"%{http_code}\"\n"
            if let credentials { config += "user = \"\(credentials)\"\n" }
            try config.write(toFile: scratch.path + "/config", atomically: true, encoding: .utf8)
            let result = try Command.run("curl", ["--config", scratch.path + "/config", "https://127.0.0.1:\(httpsPort)\(path)"])
            let body = (try? FileFacts.data(scratch.path + "/body")) ?? Data()
            return (Int(result.out) ?? -1, body)
        }
    }

    static func pidFiles(under directory: String) -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: directory)
        var found: [String] = []
        while let item = enumerator?.nextObject() as? String {
            if item.hasSuffix(".pid") { found.append(directory + "/" + item) }
        }
        return found
    }

    static func firstPid(_ path: String) -> Int32? {
        guard let text = try? FileFacts.text(path) else { return nil }
        return text.split(separator: "\n").first.flatMap { Int32($0.trimmingCharacters(in: .whitespaces)) }
    }

    @Test("start, back up, serve the backup through nginx, start again, stop, purge")
    func endToEnd() throws {
        let base = try TemporaryDirectory(prefix: "qs")
        // As root the cluster runs as postgres and nginx's workers as www-data: they must enter it.
        chmod(base.path, 0o755)
        let run = Run(state: base.path + "/local", httpsPort: try LoopbackPort.free(), pgPort: Int.random(in: 20000...60000))
        defer {
            _ = try? run.stop(["--purge"])
            base.remove()
        }

        let first = try run.start()
        try #require(first.status == 0, "\(first)")
        let url = "https://127.0.0.1:\(run.httpsPort)/api/backups"
        #expect(first.out.contains(url), "\(first.out)")
        #expect(first.out.contains("user:      admin"), "\(first.out)")

        // The password is not printed; the summary says where it is.
        let credentialsPath = run.state + "/credentials"
        #expect(first.out.contains(credentialsPath), "\(first.out)")
        #expect(try FileFacts.mode(credentialsPath) == 0o600)
        let credentials = try FileFacts.text(credentialsPath).trimmingCharacters(in: .newlines)
        let password = String(credentials.drop(while: { $0 != ":" }).dropFirst())
        #expect(credentials.hasPrefix("admin:") && password.count >= 20)
        #expect(!first.combined.contains(password), "the password was printed")

        // The throwaway cluster holds the sample data.
        let count = try Command.run("psql", ["-X", "-tA", "-h", run.state + "/pg/run", "-p", String(run.pgPort), "-U", "postgres",
                                             "-d", "pgbackup_demo", "-c",
                                             "SELECT (SELECT count(*) FROM customers) || ' ' || (SELECT count(*) FROM orders) || ' ' || (SELECT count(*) FROM products WHERE attributes ? 'color')"])
        #expect(count.out.trimmingCharacters(in: .whitespacesAndNewlines) == "3000 8000 500", "\(count)")

        // Through nginx: no credentials, no entry; with them, the first backup is listed.
        #expect(try run.get("/api/backups", credentials: nil).status == 401)
        let listed = try run.get("/api/backups", credentials: credentials)
        #expect(listed.status == 200)
        let backups = try #require(try JSONSerialization.jsonObject(with: listed.body) as? [[String: Any]], "\(String(decoding: listed.body, as: UTF8.self))")
        try #require(backups.count == 1)
        let name = try #require(backups[0]["filename"] as? String)
        #expect(name.wholeMatch(of: try Regex(#"backup_pgbackup_demo_[0-9]{8}_[0-9]{6}(_[0-9]+)?\.sql\.gz"#)) != nil, "\(name)")
        #expect(((backups[0]["size_bytes"] as? NSNumber)?.intValue ?? 0) > 10_000)

        // The dump holds the unicode sample rows.
        let download = try run.get("/api/backups/download/\(name)", credentials: credentials)
        #expect(download.status == 200)
        let gz = base.path + "/download.sql.gz"
        try download.body.write(to: URL(fileURLWithPath: gz))
        let sql = try Command.run("gzip", ["-dc", gz])
        #expect(sql.status == 0)
        #expect(sql.out.contains("COPY public.customers"))
        #expect(sql.out.contains("渡辺 美咲"))

        // The reader monitor, printed with its credentials file, may look but not download.
        #expect(first.out.contains("reader:    monitor"), "\(first.out)")
        let reader = try FileFacts.text(run.state + "/credentials-reader").trimmingCharacters(in: .newlines)
        #expect(reader.hasPrefix("monitor:"))
        #expect(try FileFacts.mode(run.state + "/credentials-reader") == 0o600)
        #expect(try run.get("/api/backups/status", credentials: reader).status == 200)
        #expect(try run.get("/api/backups/download/\(name)", credentials: reader).status == 403)
        #expect(try FileFacts.text(run.state + "/pgbackup.env").contains("PGBACKUP_OPERATORS=admin"))

        // A second run reuses everything: same password, same cluster, a restarted responder, no new backup.
        let responderBefore = Self.firstPid(run.state + "/run/fcgi.pid")
        let postgresBefore = Self.firstPid(run.state + "/pg/data/postmaster.pid")
        let second = try run.start()
        try #require(second.status == 0, "\(second)")
        #expect(try FileFacts.text(credentialsPath).trimmingCharacters(in: .newlines) == credentials)
        #expect(Self.firstPid(run.state + "/pg/data/postmaster.pid") == postgresBefore)
        let responderAfter = Self.firstPid(run.state + "/run/fcgi.pid")
        #expect(responderAfter != nil && responderAfter != responderBefore)
        if let responderBefore { #expect(!ProcessTable.isAlive(responderBefore)) }
        let relisted = try run.get("/api/backups", credentials: credentials)
        #expect(relisted.status == 200)
        #expect((try JSONSerialization.jsonObject(with: relisted.body) as? [Any])?.count == 1)

        // Stop: nothing of it keeps running, the port is closed, the data stays.
        let pids = Self.pidFiles(under: run.state).compactMap(Self.firstPid)
        #expect(pids.count >= 3, "responder, postgres and nginx pid files: \(Self.pidFiles(under: run.state))")
        let stopped = try run.stop()
        #expect(stopped.status == 0, "\(stopped)")
        for pid in pids { #expect(!ProcessTable.isAlive(pid), "pid \(pid) still runs") }
        #expect(!LoopbackPort.isListening(run.httpsPort))
        #expect(ProcessTable.working(in: run.state).isEmpty, "left behind: \(ProcessTable.working(in: run.state))")
        let kept = try FileManager.default.contentsOfDirectory(atPath: run.state + "/backups")
        #expect(kept.contains(name) && kept.contains(name + ".json"), "\(kept)")

        // Purge removes the state directory.
        let purged = try run.stop(["--purge"])
        #expect(purged.status == 0, "\(purged)")
        #expect(!FileFacts.exists(run.state))
    }

    @Test("stop without a start is harmless, and unknown commands are refused")
    func stopWithoutStart() throws {
        let base = try TemporaryDirectory(prefix: "qs")
        defer { base.remove() }
        let run = Run(state: base.path + "/never", httpsPort: try LoopbackPort.free(), pgPort: 5432)
        let stopped = try run.stop()
        #expect(stopped.status == 0, "\(stopped)")
        #expect(!FileFacts.exists(run.state))
        let unknown = try Command.run(run.script, ["frobnicate"], environment: run.environment)
        #expect(unknown.status != 0)
        #expect(unknown.err.contains("unknown command 'frobnicate'"), "\(unknown)")
    }
}
