import Foundation
import TestSupport
import Testing

extension FaultSuite {
    /// Hostile descriptions, configuration values and target databases: a clear error (or, for text that is merely
    /// shell-like, the text stored verbatim and never executed), and nothing outside BACKUP_DIR touched.
    @Suite("hostile descriptions, settings and target databases", .serialized, .postgresCluster)
    final class HostileValueTests {
        let ctx: CLITestContext

        init() throws { ctx = try CLITestContext() }
        deinit { ctx.remove() }

        private var pwned: String { ctx.scratch.appending("pwned").path }

        @Test func hostileDescriptionsFromTheCommandLine() throws {
            let db = try ctx.sampleCopy("desc")
            let real = try ctx.create(db, description: "the real one")
            let canary = try OutsideCanary(ctx, realBackup: real)
            let invariants = ctx.invariants(db)
            let before = try invariants.check()

            let refused: [(String, String)] = [
                (String(repeating: "x", count: 100 * 1024), "too long"),
                ("fine\n2026-01-01T00:00:00+0000 info pgbackup: backup committed filename=forged", "control characters"),
                ("carriage\rreturn", "control characters"),
                ("escape \u{1B}[2J\u{1B}[31mred", "control characters"),
                ("bell\u{7}", "control characters"),
                ("delete\u{7F}", "control characters"),
            ]
            for (description, reason) in refused {
                let result = try ctx.pgbackup(["create", "-d", description], database: db)
                #expect(result.status == 2, "\(description.prefix(40).debugDescription): \(result)")
                #expect(result.err.contains(reason), "\(description.prefix(40).debugDescription): \(result.err.prefix(300))")
                #expect(!result.err.contains("\u{1B}[2J"), "an escape sequence must not be echoed to the terminal")
            }
            #expect(try ctx.listedNames(db) == [real])

            // Bytes that are not UTF-8 cannot be stored faithfully in JSON: refuse them rather than mangle them.
            let shell = try ProcessRunner.tool("sh")
            let invalid = try ProcessRunner.run(
                shell, ["-c", #"exec "$0" create -d "$(printf 'caf\351 \377\376')""#, try Binaries.pgbackup()],
                environment: ctx.environment(database: db))
            #expect(invalid.status == 2, "a description that is not UTF-8 must be refused: \(invalid)")
            #expect(try ctx.listedNames(db) == [real], "nothing may be stored for an invalid description")

            // Shell-looking text is just text: stored verbatim, never run.
            let shellish = "$(touch \(pwned)); `touch \(pwned)`; rm -rf / # ' \" \\ ; | & > /tmp/pgbackup-pwned"
            let made = try ctx.create(db, description: shellish)
            #expect(try ctx.sidecar(made)["description"] as? String == shellish)
            let listed = try ctx.list(db).first { $0["filename"] as? String == made }
            #expect(listed?["description"] as? String == shellish)
            #expect(!FileManager.default.fileExists(atPath: pwned))

            try canary.expectUntouched("descriptions")
            try invariants.check(unchanged: before)
        }

        @Test func hostileDescriptionsOverHTTP() throws {
            let db = try ctx.sampleCopy("httpdesc")
            let real = try ctx.create(db, description: "the real one")
            let canary = try OutsideCanary(ctx, realBackup: real)
            let stack = try FaultHTTPStack(environment: ctx.environment(database: db))
            defer { stack.stop() }
            let invariants = ctx.invariants(db)
            let before = try invariants.check()

            // 1 MiB: nginx refuses the body before the responder sees it.
            let huge = #"{"description": ""# + String(repeating: "A", count: 1 << 20) + #""}"#
            let tooBig = try stack.request("POST", "/api/backups", json: huge)
            #expect(tooBig.status == 413, "\(tooBig.status)")
            #expect(try tooBig.json()["error"] as? String == "payload_too_large")

            let refused: [(Data, Int, String)] = [
                (Data((#"{"description": ""# + String(repeating: "x", count: 60_000) + #""}"#).utf8), 400, "too long"),
                (Data(#"{"description": "line\nforged log line"}"#.utf8), 400, "control characters"),
                (Data(#"{"description": "nul \u0000 byte"}"#.utf8), 400, "control characters"),
                (Data(#"{"description": "esc \u001b[2J"}"#.utf8), 400, "control characters"),
                (Data(#"{"description": "caf"#.utf8) + Data([0xE9, 0x20, 0xFF, 0xFE]) + Data(#""}"#.utf8), 400, "utf-8"),
                (Data(#"{"description": "lone \ud800 surrogate"}"#.utf8), 400, "surrogate"),
                (Data(#"{"description": 42}"#.utf8), 400, "must be a string"),
                (Data(#"{"description": "x", "extra": true}"#.utf8), 400, "unknown field"),
                (Data(#"{"description": "x""#.utf8), 400, "not valid json"),
            ]
            for (body, status, words) in refused {
                let reply = try stack.request("POST", "/api/backups", rawBody: body)
                #expect(reply.status == status, "\(String(decoding: body.prefix(60), as: UTF8.self)): \(reply)")
                let detail = (try reply.json()["detail"] as? String ?? "").lowercased()
                #expect(detail.contains(words), "\(String(decoding: body.prefix(60), as: UTF8.self)): \(detail)")
            }
            #expect(try ctx.listedNames(db) == [real])

            let shellish = "$(touch \(pwned)); `id`; <script>alert(1)</script> \\\"quoted\\\""
            let made = try stack.request("POST", "/api/backups", json: #"{"description": "\#(shellish)"}"#)
            #expect(made.status == 201, "\(made)")
            let backup = try made.json()["backup"] as? [String: Any]
            #expect(backup?["description"] as? String == shellish.replacingOccurrences(of: "\\\"", with: "\""))
            #expect(!FileManager.default.fileExists(atPath: pwned))

            try canary.expectUntouched("HTTP descriptions")
            try invariants.check(unchanged: before)
        }

        /// (variable, value): each must stop every binary at startup, naming both.
        static let hostileSettings: [(String, String)] = [
            ("BACKUP_RETENTION_DAYS", "0"), ("BACKUP_RETENTION_DAYS", "-1"), ("BACKUP_RETENTION_DAYS", "seven"),
            ("BACKUP_RETENTION_DAYS", "1.5"), ("BACKUP_RETENTION_DAYS", "99999999999999999999999"),
            ("BACKUP_RETENTION_DAYS", "7; rm -rf /"), ("BACKUP_MAX_COUNT", "0"), ("BACKUP_MAX_COUNT", "0x10"),
            ("BACKUP_INTERVAL_HOURS", "0"), ("BACKUP_INTERVAL_HOURS", "-24"), ("BACKUP_ENABLED", "maybe"),
            ("BACKUP_ENABLED", "true; touch /tmp/pgbackup-pwned"), ("BACKUP_COMPRESSION_LEVEL", "0"),
            ("BACKUP_COMPRESSION_LEVEL", "10"), ("BACKUP_LOCK_WAIT_TIMEOUT", "0"), ("POSTGRES_PORT", "0"),
            ("POSTGRES_PORT", "70000"), ("POSTGRES_PORT", "5432 -c x"), ("POSTGRES_DB", "-cfoo"),
            ("POSTGRES_DB", "dbname=x host=evil"), ("POSTGRES_DB", "postgres://evil.example/x"),
            ("POSTGRES_DB", "x' OR '1'='1"), ("POSTGRES_DB", "--help"), ("POSTGRES_USER", "bad\nuser"),
        ]

        @Test func hostileSettingsStopEveryBinaryAtStartup() throws {
            let db = try ctx.sampleCopy("settings")
            let real = try ctx.create(db, description: "the real one")
            let canary = try OutsideCanary(ctx, realBackup: real)
            let invariants = ctx.invariants(db)
            let before = try invariants.check()
            let responderSocket = ctx.scratch.appending("fcgi.sock").path

            let injectedDir = ctx.scratch.appending("x")
            for (variable, value) in Self.hostileSettings + [("BACKUP_DIR", "\(injectedDir.path)\nBACKUP_DIR=/etc")] {
                let env = [variable: value]
                let what = "\(variable)=\(value.debugDescription)"
                let cli = try ctx.pgbackup(["create"], database: db, env: env)
                #expect(cli.status == 2, "pgbackup with \(what): \(cli)")
                #expect(cli.err.contains(variable), "pgbackup with \(what) must name the variable: \(cli.err)")
                let shown = value.split(separator: "\n").first.map(String.init) ?? value
                #expect(cli.err.contains(shown), "pgbackup with \(what) must show the value: \(cli.err)")

                let scheduler = try ctx.scheduler(database: db, env: env)
                #expect(scheduler.status == 2, "scheduler with \(what): \(scheduler)")
                #expect(scheduler.err.contains(variable), "scheduler with \(what): \(scheduler.err)")

                let responder = try ProcessRunner.run(
                    try Binaries.path("pgbackup-fcgi"), ["--socket", responderSocket],
                    environment: ctx.environment(database: db, extra: env), timeout: .seconds(20))
                #expect(responder.status != 0 && !responder.timedOut, "responder with \(what): \(responder)")
                #expect(responder.err.contains(variable), "responder with \(what): \(responder.err)")
            }
            #expect(!FileManager.default.fileExists(atPath: injectedDir.path), "a BACKUP_DIR with a newline was used")
            try canary.expectUntouched("settings")
            try invariants.check(unchanged: before)
        }

        @Test func theEnvFileIsParsedNeverExecuted() throws {
            let db = try ctx.sampleCopy("envfile")
            let real = try ctx.create(db, description: "the real one")
            let canary = try OutsideCanary(ctx, realBackup: real)
            let invariants = ctx.invariants(db)
            let before = try invariants.check()
            let envFile = ctx.scratch.appending("hostile.env")

            let refusedFiles = [
                "$(touch \(pwned))\n",
                "BACKUP_MAX_COUNT=$(touch \(pwned))\n",
                "BACKUP_MAX_COUNT=`touch \(pwned)`\n",
                "BACKUP_RETENTION_DAYS='7'; touch \(pwned)\n",
                "touch \(pwned); BACKUP_MAX_COUNT=3\n",
                "BACKUP_DIR=\"/tmp\n",
            ]
            for text in refusedFiles {
                try Data(text.utf8).write(to: envFile)
                let result = try ctx.pgbackup(["status"], database: db, env: ["PGBACKUP_ENV_FILE": envFile.path])
                #expect(result.status == 2, "\(text.debugDescription): \(result)")
                #expect(result.err.contains("hostile.env") || result.err.contains("BACKUP_"), "\(text.debugDescription): \(result.err)")
            }
            // A value that merely looks like shell is taken literally (here as a password nobody checks).
            try Data("POSTGRES_PASSWORD=$(touch \(pwned))\nBACKUP_MAX_COUNT=\"30\" # comment\n".utf8).write(to: envFile)
            let literal = try ctx.pgbackup(["status", "--json"], database: db, env: ["PGBACKUP_ENV_FILE": envFile.path])
            #expect(literal.status == 0, "\(literal)")
            #expect(JSON.int(try literal.jsonObject()["max_backups"]) == 30)
            #expect(!FileManager.default.fileExists(atPath: pwned), "the env file was executed")
            try FileManager.default.removeItem(at: envFile)
            try canary.expectUntouched("env file")
            try invariants.check(unchanged: before)
        }

        static let hostileTargets = [
            "-cfoo", "-c shared_preload_libraries=evil", "--help", "dbname=x host=evil.example", "host=/tmp dbname=x",
            "postgres://evil.example/x", "postgresql:///x?host=/tmp", "x' OR '1'='1", "x; DROP TABLE canary",
            "x\ny", "", " ", "a b", String(repeating: "d", count: 64), "ünïcode",
        ]

        @Test func hostileTargetDatabasesAreRefusedBeforeAnythingHappens() throws {
            let db = try ctx.sampleCopy("target")
            let real = try ctx.create(db, description: "the real one")
            let canary = try OutsideCanary(ctx, realBackup: real)
            let stack = try FaultHTTPStack(environment: ctx.environment(database: db))
            defer { stack.stop() }
            let invariants = ctx.invariants(db)
            let before = try invariants.check()
            try ctx.cluster.psql("UPDATE canary SET value = 'must survive'", database: db)
            let dumpBefore = try ctx.cluster.normalisedDump(db)

            for target in Self.hostileTargets {
                // `--target-db=VALUE`, so that values with leading dashes reach pgbackup's own check.
                let cli = try ctx.pgbackup(["restore", real, "--target-db=\(target)", "--yes"], database: db)
                #expect(cli.status == 2, "--target-db \(target.debugDescription): \(cli)")
                // An empty value is already a usage error of the option parser.
                let expected = target.isEmpty ? "Missing value for '--target-db" : "invalid target database"
                #expect(cli.err.contains(expected), "--target-db \(target.debugDescription): \(cli.err)")

                let escaped = target.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                    .replacingOccurrences(of: "\n", with: "\\n")
                let reply = try stack.request(
                    "POST", "/api/backups/restore", json: #"{"backup_filename": "\#(real)", "target_database": "\#(escaped)"}"#)
                #expect(reply.status == 400, "target_database \(target.debugDescription): \(reply)")
                #expect((try reply.json()["detail"] as? String)?.contains("invalid target database") == true, "\(reply)")
            }
            // A well-formed name that does not exist is a clear error too, and nothing is made for it.
            let missing = try ctx.pgbackup(["restore", real, "--target-db", "no_such_db", "--yes"], database: db)
            #expect(missing.status == 2, "\(missing)")
            #expect(missing.err.contains("does not exist"), "\(missing.err)")
            // The templates: every later CREATE DATABASE would copy the backup's tables. Refused in both modes.
            for template in ["template1", "template0"] {
                let cli = try ctx.pgbackup(["restore", real, "--target-db", template, "--no-safety-backup", "--yes"], database: db)
                #expect(cli.status == 2, "\(template): \(cli)")
                #expect(cli.err.contains("'\(template)' is a template database"), "\(cli.err)")
                for mode in ["transaction", "swap"] {
                    let reply = try stack.request("POST", "/api/backups/restore", json:
                        #"{"backup_filename": "\#(real)", "target_database": "\#(template)", "mode": "\#(mode)"}"#)
                    #expect(reply.status == 400, "\(template), \(mode): \(reply)")
                }
            }
            #expect(try ctx.cluster.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", database: "template1") == "0")
            // A database that exists but takes no connections is the request's mistake (400, exit 2), not an
            // unreachable server (503), and not a failure of pgbackup's.
            let closed = CLITestContext.uniqueName("closed")
            try ctx.cluster.psql("CREATE DATABASE \(closed) ALLOW_CONNECTIONS false")
            defer { _ = try? ctx.cluster.psql("DROP DATABASE IF EXISTS \(closed)") }
            let refused = try ctx.pgbackup(["restore", real, "--target-db", closed, "--no-safety-backup", "--yes"], database: db)
            #expect(refused.status == 2, "\(refused)")
            #expect(refused.err.contains("database '\(closed)' does not accept connections"), "\(refused.err)")
            let closedReply = try stack.request("POST", "/api/backups/restore", json:
                #"{"backup_filename": "\#(real)", "target_database": "\#(closed)", "safety_backup": false}"#)
            #expect(closedReply.status == 400, "\(closedReply)")
            #expect(try ctx.status(db)["last_failure"] is NSNull, "a refused request is not a failure")

            DumpComparison.expectEqual(dumpBefore, try ctx.cluster.normalisedDump(db), "database after refused restores")
            #expect(ctx.dumpFiles() == [real], "no safety backup may be made for a refused restore")
            try canary.expectUntouched("target databases")
            try invariants.check(unchanged: before)
        }
    }
}
