import Foundation
import TestSupport
import Testing

extension FaultSuite {
    /// Hostile backup names and planted symlinks: each gets a clear error, and nothing outside BACKUP_DIR (a canary
    /// directory next to it) is read, written or deleted.
    @Suite("hostile names and planted symlinks", .serialized, .postgresCluster)
    final class HostileNameTests {
        let ctx: CLITestContext

        init() throws { ctx = try CLITestContext() }
        deinit { ctx.remove() }

        static let validButAbsent = "backup_nosuch_20250101_000000.sql.gz"

        /// Names a user or an attacker might pass on the command line.
        func hostileNames(_ canary: OutsideCanary) -> [String] {
            [
                "../outside/canary.sql.gz", "../../../../etc/passwd", "/etc/passwd", canary.dump.path, canary.note.path,
                "backup_x_20250101_000000.sql.gz/../../outside/canary.sql.gz",
                "backup_../outside/x_20250101_000000.sql.gz", "backup_.._20250101_000000.sql.gz",
                "backup_x_20250101_000000.sql.gz\n", "backup_x_20250101_000000.sql.gz\r\nX-Injected: 1",
                "backup_x_20250101_000000.sql.gz.json", "backup_x_20250101_000000.sql.gz/",
                "%2e%2e%2foutside%2fcanary.sql.gz", "%252e%252e%252fcanary", ".partial/backup_x_20250101_000000.sql.gz",
                ".lock", ".state.json", ".", "..", "", " backup_x_20250101_000000.sql.gz", "backup_x_2025010_000000.sql.gz",
                "backup_x_20250101_000000.sql.gz\u{0}.json", "backup_x_20250101_000000.SQL.GZ", "--help", "-rf",
                String(repeating: "backup_", count: 40) + "x_20250101_000000.sql.gz",
            ]
        }

        @Test func hostileNamesOnTheCommandLineAreRefusedAndTouchNothing() throws {
            let db = try ctx.sampleCopy("names")
            let real = try ctx.create(db, description: "the real one")
            let canary = try OutsideCanary(ctx, realBackup: real)
            let invariants = ctx.invariants(db)
            let before = try invariants.check()
            let dumpBefore = try ctx.cluster.normalisedDump(db)

            for name in hostileNames(canary) where !name.contains("\u{0}") {  // argv cannot carry a NUL
                for command in [["verify"], ["restore", "--yes"], ["delete", "--yes"]] {
                    // `--` so that names with leading dashes reach the name check instead of the option parser.
                    let result = try ctx.pgbackup(command + ["--", name], database: db)
                    #expect(result.status == 2, "\(command) \(name.debugDescription): \(result)")
                    #expect(result.err.contains("invalid backup name"), "\(command) \(name.debugDescription): \(result.err)")
                    #expect(!result.err.contains("\r\nX-Injected"), "control characters must not be echoed raw")
                }
            }
            // Without `--`, leading dashes are options: a usage error, never a file name.
            let dashed = try ctx.pgbackup(["delete", "-rf", "--yes"], database: db)
            #expect(dashed.status == 2, "\(dashed)")
            let absent = try ctx.pgbackup(["verify", Self.validButAbsent], database: db)
            #expect(absent.status == 2)
            #expect(absent.err.contains("no backup named"), "\(absent.err)")

            try canary.expectUntouched("CLI names")
            DumpComparison.expectEqual(dumpBefore, try ctx.cluster.normalisedDump(db), "database after hostile restores")
            try invariants.check(unchanged: before)
        }

        @Test func hostileNamesOverHTTPAreRefusedAndTouchNothing() throws {
            let db = try ctx.sampleCopy("httpnames")
            let real = try ctx.create(db, description: "the real one")
            let canary = try OutsideCanary(ctx, realBackup: real)
            let stack = try FaultHTTPStack(environment: ctx.environment(database: db))
            defer { stack.stop() }
            let invariants = ctx.invariants(db)
            let before = try invariants.check()
            let canaryBytes = try Data(contentsOf: canary.dump)
            let encodedAbsolute = canary.dump.path.replacingOccurrences(of: "/", with: "%2F")

            let attempts: [(String, String)] = [
                ("GET", "/api/backups/..%2f..%2foutside%2fcanary.sql.gz"),
                ("GET", "/api/backups/download/..%2foutside%2fcanary.sql.gz"),
                ("GET", "/api/backups/download/%2e%2e%2foutside%2fcanary.sql.gz"),
                ("GET", "/api/backups/download/%252e%252e%252foutside%252fcanary.sql.gz"),
                ("GET", "/api/backups/download/%25252e%25252e%25252f"),
                ("GET", "/api/backups/download/\(encodedAbsolute)"),
                ("GET", "/api/backups/download/../../outside/canary.sql.gz"),
                ("GET", "/api/backups/download/..%5c..%5coutside%5ccanary.sql.gz"),
                ("GET", "/api/backups/download/backup_x_20250101_000000.sql.gz%0d%0aSet-Cookie:%20pwned=1"),
                ("GET", "/api/backups/download/-rf"),
                ("GET", "/api/backups/download/.partial%2fbackup_x_20250101_000000.sql.gz"),
                ("GET", "/api/backups/download/%2e%2e"),
                ("GET", "/api/backups/download/%c0%ae%c0%ae%c0%af"),
                ("HEAD", "/api/backups/download/..%2foutside%2fcanary.sql.gz"),
                ("DELETE", "/api/backups/..%2foutside%2fvictim.txt"),
                ("DELETE", "/api/backups/\(encodedAbsolute)"),
                ("DELETE", "/api/backups/%2e%2e"),
                ("POST", "/api/backups/..%2foutside%2fcanary.sql.gz/verify"),
                ("POST", "/api/backups/%2e%2e%2f%2e%2e/verify"),
            ]
            for (method, path) in attempts {
                let reply = try stack.request(method, path)
                #expect([400, 404].contains(reply.status), "\(method) \(path): \(reply)")
                #expect(reply.header("set-cookie") == nil, "\(method) \(path): header injection: \(reply.rawHeaders)")
                #expect(reply.body.range(of: canaryBytes.prefix(64)) == nil, "\(method) \(path) returned the canary")
                if method != "HEAD" {
                    let body = try reply.json()
                    #expect(body["success"] as? Bool == false, "\(method) \(path): \(reply)")
                    let detail = (body["detail"] as? String ?? "").lowercased()
                    #expect(detail.contains("invalid backup name") || detail.contains("no such api path")
                            || detail.contains("percent-encoded"), "\(method) \(path): \(detail)")
                }
            }
            // A NUL in the path: nginx itself refuses it, before the responder.
            let nul = try stack.request("GET", "/api/backups/download/backup_x_20250101_000000.sql.gz%00.json")
            #expect(nul.status == 400, "\(nul)")

            let bodies = [
                #"{"backup_filename": "../outside/canary.sql.gz"}"#,
                #"{"backup_filename": "\#(canary.dump.path)"}"#,
                #"{"backup_filename": "backup_x_20250101_000000.sql.gz\u0000"}"#,
                #"{"backup_filename": "backup_x_20250101_000000.sql.gz\n"}"#,
                #"{"backup_filename": "-rf"}"#,
                #"{"backup_filename": ""}"#,
                #"{"backup_filename": ["backup_x_20250101_000000.sql.gz"]}"#,
                #"{"backup_filename": "\#(real)", "backup_filename": "../x"}"#,
            ]
            for body in bodies {
                let reply = try stack.request("POST", "/api/backups/restore", json: body)
                #expect(reply.status == 400, "restore \(body): \(reply)")
                #expect(try reply.json()["success"] as? Bool == false)
            }
            let absent = try stack.request("GET", "/api/backups/\(Self.validButAbsent)")
            #expect(absent.status == 404, "\(absent)")

            try canary.expectUntouched("HTTP names")
            try invariants.check(unchanged: before)
        }

        @Test func plantedSymlinksAreNeverFollowed() throws {
            let db = try ctx.sampleCopy("links")
            let real = try ctx.create(db, description: "the real one")
            let canary = try OutsideCanary(ctx, realBackup: real)
            let invariants = ctx.invariants(db)
            let before = try invariants.check()
            try ctx.cluster.psql("UPDATE canary SET value = 'must survive'", database: db)
            let dumpBefore = try ctx.cluster.normalisedDump(db)

            // A "backup" that is a link to a real (valid!) dump outside, with a sidecar that describes that dump.
            let linkedDump = "backup_\(db)_20250101_000000.sql.gz"
            try FileManager.default.createSymbolicLink(atPath: ctx.backupURL(linkedDump).path, withDestinationPath: canary.dump.path)
            var sidecar = try ctx.sidecar(real)
            sidecar["filename"] = linkedDump
            try JSON.write(sidecar, to: ctx.sidecarURL(linkedDump))
            chmod(ctx.sidecarURL(linkedDump).path, 0o600)
            // A real dump whose sidecar is a link to a valid sidecar outside.
            let linkedSidecar = "backup_\(db)_20250102_000000.sql.gz"
            try FileManager.default.copyItem(at: ctx.backupURL(real), to: ctx.backupURL(linkedSidecar))
            var outsideSidecar = try ctx.sidecar(real)
            outsideSidecar["filename"] = linkedSidecar
            try JSON.write(outsideSidecar, to: canary.sidecar)
            try FileManager.default.createSymbolicLink(atPath: ctx.sidecarURL(linkedSidecar).path,
                                                       withDestinationPath: canary.sidecar.path)
            try canary.retake()

            let stack = try FaultHTTPStack(environment: ctx.environment(database: db))
            defer { stack.stop() }
            for planted in [linkedDump, linkedSidecar] {
                #expect(try !ctx.listedNames(db).contains(planted), "\(planted) must not be listed as a backup")
                let verify = try ctx.pgbackup(["verify", planted], database: db)
                #expect(verify.status == 4, "\(planted): \(verify)")
                let restore = try ctx.pgbackup(["restore", planted, "--yes"], database: db)
                #expect(restore.status == 4, "\(planted): \(restore)")
                let download = try stack.request("GET", "/api/backups/download/\(planted)")
                #expect(download.status != 200, "\(planted) was downloadable: HTTP \(download.status)")
                #expect(try download.json()["success"] as? Bool == false)
                let info = try stack.request("GET", "/api/backups/\(planted)")
                #expect(info.status != 200, "\(planted): \(info)")
            }
            DumpComparison.expectEqual(dumpBefore, try ctx.cluster.normalisedDump(db), "database after restores of links")
            try canary.expectUntouched("symlinks: read attempts")

            // Deleting a planted backup removes the links, never what they point at.
            for planted in [linkedDump, linkedSidecar] {
                let delete = try stack.request("DELETE", "/api/backups/\(planted)")
                #expect(delete.status == 200, "\(planted): \(delete)")
                #expect(!FileTools.names(in: ctx.backupDir).contains(planted))
            }
            try canary.expectUntouched("symlinks: deletes")
            try invariants.check(unchanged: before)
        }

        /// Internal paths replaced by links to the outside: every mutating run must refuse rather than follow them.
        @Test(arguments: [".partial", ".lock", ".jobs"])
        func internalPathsReplacedByLinksAreRefused(_ entry: String) throws {
            let db = try ctx.sampleCopy("internal")
            let real = try ctx.create(db, description: "the real one")
            let canary = try OutsideCanary(ctx, realBackup: real)
            let invariants = ctx.invariants(db)
            let before = try invariants.check()
            let target = entry == ".lock" ? canary.note : canary.directory
            let path = ctx.backupDir.appendingPathComponent(entry)
            try? FileManager.default.removeItem(at: path)
            try FileManager.default.createSymbolicLink(atPath: path.path, withDestinationPath: target.path)
            defer {
                try? FileManager.default.removeItem(at: path)
            }

            if entry == ".jobs" {
                // A finished job file, old enough to be pruned, that only exists through the link.
                let old = TimeText.iso8601(Date().addingTimeInterval(-30 * 86_400))
                let job: [String: Any] = [
                    "id": String(repeating: "ab", count: 16), "operation": "create", "state": "succeeded",
                    "request": ["description": "x"], "created_at": old, "updated_at": old,
                ]
                try JSON.write(job, to: canary.directory.appendingPathComponent(String(repeating: "ab", count: 16) + ".json"))
                try canary.retake()
                let stack = try FaultHTTPStack(environment: ctx.environment(database: db))
                defer { stack.stop() }
                let reply = try stack.request("POST", "/api/backups", json: "{}", headers: ["Prefer: respond-async"])
                #expect(reply.status >= 400, "an async create must not use a linked jobs directory: \(reply)")
                #expect(try reply.json()["success"] as? Bool == false)
            } else {
                for command in [["create"], ["cleanup"], ["delete", real, "--yes"], ["restore", real, "--yes"]] {
                    let result = try ctx.pgbackup(command, database: db)
                    #expect(result.status == 1, "\(command) with a linked \(entry): \(result)")
                    #expect(result.err.contains(entry), "\(command): the message should name \(entry): \(result.err)")
                }
            }
            try canary.expectUntouched("linked \(entry)")
            try FileManager.default.removeItem(at: path)
            try invariants.check(unchanged: before)
        }
    }
}
