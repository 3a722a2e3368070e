import Foundation
import TestSupport
import Testing

/// Watches every process's argv (`/proc/*/cmdline`) on a thread of its own while a scenario runs, looking for a
/// secret; also counts how many processes it saw, so a test can tell the watch really overlapped the work.
final class ArgvWatcher: @unchecked Sendable {
    private let needle: Data
    private let lock = NSLock()
    private var running = true
    private var leaks: [String] = []
    private var seen: Set<String> = []
    private let done = DispatchSemaphore(value: 0)

    init(secret: String) {
        needle = Data(secret.utf8)
        Thread { [self] in
            while lock.withLock({ running }) {
                for entry in ProcessTable.all() {
                    guard let argv = ProcessTable.commandLine(entry.pid) else { continue }
                    let found = argv.range(of: needle) != nil
                    lock.withLock {
                        seen.insert(entry.command)
                        if found { leaks.append("\(entry.command) (pid \(entry.pid))") }
                    }
                }
                usleep(2_000)
            }
            done.signal()
        }.start()
    }

    /// Stops watching; returns the processes whose argv held the secret and the commands seen.
    func stop() -> (leaks: [String], commands: Set<String>) {
        lock.withLock { running = false }
        done.wait()
        return lock.withLock { (leaks, seen) }
    }
}

extension FaultSuite {
    /// The database password (of a SCRAM role) never shows up in argv, output, logs, sidecars, state or job files,
    /// or API answers; backups are readable by their owner only.
    @Suite("secrets and file permissions", .serialized, .postgresCluster)
    final class SecretTests {
        let ctx: CLITestContext

        init() throws { ctx = try CLITestContext() }
        deinit { ctx.remove() }

        private var password: String { ctx.cluster.password }

        /// Every file pgbackup writes into BACKUP_DIR besides the dumps (sidecars, state, jobs, the lock), concatenated.
        private func everythingWritten() throws -> Data {
            var all = Data()
            for url in FileTools.allFiles(under: ctx.backupDir) where !url.path.hasSuffix(".sql.gz") {
                all.append(try Data(contentsOf: url))
            }
            return all
        }

        private func expectNoPassword(in text: String, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(!text.contains(password), "\(what) contains the password", sourceLocation: sourceLocation)
        }

        enum PasswordSource: String, CaseIterable, Sendable {
            case environment, file
        }

        @Test(arguments: PasswordSource.allCases)
        func passwordNeverLeaksFromTheCommandLineTools(_ source: PasswordSource) throws {
            // Big enough that pg_dump and psql run for a while under the watcher's eyes.
            let db = try ctx.bulkCopy("secret_\(source.rawValue)", rows: 60_000)
            var env = ["POSTGRES_USER": PostgresCluster.passwordUser]
            switch source {
            case .environment:
                env["POSTGRES_PASSWORD"] = password
            case .file:
                let file = ctx.scratch.appending("pgpassword")
                try Data((password + "\n").utf8).write(to: file)
                chmod(file.path, 0o600)
                env["POSTGRES_PASSWORD_FILE"] = file.path
            }
            // Prove the password is needed: without it the role cannot log in.
            let denied = try ctx.pgbackup(["create"], database: db, env: ["POSTGRES_USER": PostgresCluster.passwordUser])
            #expect(denied.status == 1, "\(denied)")

            let watcher = ArgvWatcher(secret: password)
            let create = try ctx.pgbackup(["create", "--verbose", "--json", "-d", "made as pwuser"], database: db, env: env)
            let name = try #require(try create.jsonObject()["backup"] as? [String: Any])["filename"] as? String
            let restore = try ctx.pgbackup(["restore", try #require(name), "--yes", "--verbose", "--json"],
                                           database: db, env: env)
            let scheduled = try ctx.scheduler(database: db, env: env)
            let (leaks, commands) = watcher.stop()
            #expect(create.status == 0, "\(create)")
            #expect(restore.status == 0, "\(restore)")
            #expect(scheduled.status == 0, "\(scheduled)")
            #expect(leaks.isEmpty, "the password was in the argv of \(leaks)")
            #expect(commands.contains("pg_dump") && commands.contains("psql"), "the watch must have seen the children: \(commands.sorted())")

            // A wrong password: a clear failure that does not echo what was tried.
            let wrong = "wrong-\(password)"
            var wrongEnv = env
            wrongEnv["POSTGRES_PASSWORD"] = wrong
            wrongEnv["POSTGRES_PASSWORD_FILE"] = nil
            let failed = try ctx.pgbackup(["create", "--json"], database: db, env: wrongEnv)
            #expect(failed.status == 1, "\(failed)")
            #expect(failed.err.contains("password authentication failed"), "\(failed.err)")
            #expect(!failed.combined.contains(wrong), "the wrong password was echoed")

            for (what, result) in [("create", create), ("restore", restore), ("scheduler", scheduled), ("failed create", failed)] {
                expectNoPassword(in: result.combined, "\(what) output")
            }
            for command in [["list", "--json"], ["status", "--json"], ["verify", "--all", "--json"]] {
                expectNoPassword(in: try ctx.pgbackup(command, database: db, env: env).combined, "\(command) output")
            }
            #expect(try everythingWritten().range(of: Data(password.utf8)) == nil, "a file in BACKUP_DIR holds the password")
            #expect(try everythingWritten().range(of: Data(wrong.utf8)) == nil, "a file in BACKUP_DIR holds the wrong password")
        }

        @Test func passwordNeverLeaksThroughTheAPIOrItsJobs() throws {
            let db = try ctx.bulkCopy("secret_api", rows: 60_000)
            let file = ctx.scratch.appending("pgpassword")
            try Data((password + "\n").utf8).write(to: file)
            chmod(file.path, 0o600)
            let env = ctx.environment(database: db, extra: ["POSTGRES_USER": PostgresCluster.passwordUser,
                                                            "POSTGRES_PASSWORD_FILE": file.path])
            let stack = try FaultHTTPStack(environment: env)
            defer { stack.stop() }

            let watcher = ArgvWatcher(secret: password)
            var replies: [HTTPReply] = []
            replies.append(try stack.request("POST", "/api/backups", json: #"{"description": "sync"}"#))
            let accepted = try stack.request("POST", "/api/backups", json: #"{"description": "async"}"#,
                                             headers: ["Prefer: respond-async"])
            replies.append(accepted)
            let location = try #require(accepted.header("location"), "\(accepted)")
            var job = try stack.request("GET", location)
            let finished = try Poll.until(timeout: 120, interval: 100_000) {
                job = try stack.request("GET", location)
                let state = try job.json()["state"] as? String
                return state == "succeeded" || state == "failed"
            }
            replies.append(job)
            let state = try job.json()["state"] as? String
            #expect(finished && state == "succeeded", "\(job)")
            let name = try #require(try replies[0].json()["backup"] as? [String: Any])["filename"] as? String ?? ""
            replies.append(try stack.request("POST", "/api/backups/restore",
                                             json: #"{"backup_filename": "\#(name)", "safety_backup": false}"#))
            for path in ["/api/backups", "/api/backups/status", "/api/backups/\(name)"] {
                replies.append(try stack.request("GET", path))
            }
            replies.append(try stack.request("POST", "/api/backups/\(name)/verify"))
            let (leaks, commands) = watcher.stop()
            #expect(leaks.isEmpty, "the password was in the argv of \(leaks)")
            #expect(commands.contains("pg_dump"), "the watch must have seen pg_dump: \(commands.sorted())")

            for reply in replies {
                #expect(reply.status < 300, "\(reply)")
                expectNoPassword(in: reply.rawHeaders + reply.text, "an API answer")
            }
            let log = stack.stopResponder()
            expectNoPassword(in: (log?.combined ?? "") + stack.responderLogs.joined(), "the responder's log")
            expectNoPassword(in: stack.nginxLogs(), "nginx's logs")
            #expect(try everythingWritten().range(of: Data(password.utf8)) == nil,
                    "a file in BACKUP_DIR (sidecar, state, job) holds the password")
        }

        @Test func backupsAreReadableByTheirOwnerOnlyWhateverTheUmask() throws {
            let db = try ctx.sampleCopy("perms")
            // Let other users reach BACKUP_DIR's parent, so only BACKUP_DIR's own modes stand in the way, and make
            // BACKUP_DIR world-readable to start with: pgbackup must tighten it.
            chmod(ctx.scratch.path, 0o755)
            try FileManager.default.createDirectory(at: ctx.backupDir, withIntermediateDirectories: true)
            chmod(ctx.backupDir.path, 0o755)
            let shell = try ProcessRunner.tool("sh")
            let create = try ProcessRunner.run(shell, ["-c", #"umask 000 && exec "$0" create --json"#, try Binaries.pgbackup()],
                                               environment: ctx.environment(database: db))
            #expect(create.status == 0, "\(create)")
            let name = try #require(try create.jsonObject()["backup"] as? [String: Any])["filename"] as? String ?? ""
            let stack = try FaultHTTPStack(environment: ctx.environment(database: db))
            defer { stack.stop() }
            let job = try stack.request("POST", "/api/backups", json: "{}", headers: ["Prefer: respond-async"])
            #expect(job.status == 202, "\(job)")
            Poll.until(timeout: 60, interval: 50_000) { FileTools.names(in: ctx.backupDir).filter { $0.hasSuffix(".json") }.count >= 2 }
            stack.stopResponder()

            #expect(try FileTools.permissions(ctx.backupDir) == 0o700)
            for url in FileTools.allFiles(under: ctx.backupDir) {
                let mode = try FileTools.permissions(url)
                #expect(mode & 0o077 == 0, "\(url.path) is open to others: \(String(mode, radix: 8))")
            }
            for sub in [".partial", ".jobs"] {
                let dir = ctx.backupDir.appendingPathComponent(sub)
                if FileManager.default.fileExists(atPath: dir.path) {
                    #expect(try FileTools.permissions(dir) == 0o700, "\(sub)")
                }
            }
            let runuser = try ProcessRunner.tool("runuser")
            for path in [ctx.backupURL(name).path, ctx.sidecarURL(name).path] {
                let read = try ProcessRunner.run(runuser, ["-u", "nobody", "--", "cat", path])
                #expect(read.status != 0 && read.stdout.isEmpty, "nobody could read \(path)")
                #expect(read.err.contains("Permission denied"), "\(read.err)")
            }
            let listing = try ProcessRunner.run(runuser, ["-u", "nobody", "--", "ls", ctx.backupDir.path])
            #expect(listing.status != 0, "nobody could list BACKUP_DIR: \(listing.out)")
            // The owner can: the denial above is about other users, not a broken file.
            #expect(try BackupFiles.gunzipTest(ctx.backupURL(name)).status == 0)
        }
    }
}
