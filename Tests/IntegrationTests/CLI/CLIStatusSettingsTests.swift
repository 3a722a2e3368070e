import Foundation
import TestSupport
import Testing

/// status reports settings, backups and health; settings come from the environment and the env file.
@Suite("CLI: status and settings", .serialized, .postgresCluster)
final class CLIStatusSettingsTests {
    let ctx: CLITestContext

    init() throws { ctx = try CLITestContext() }
    deinit { ctx.remove() }

    @Test("a create leading its own session lowers that session's CPU weight; one run from a shell does not")
    func sessionPriority() throws {
        let db = try ctx.sampleDatabase("session")
        let own = try ProcessRunner.run(
            try ProcessRunner.tool("setsid"), ["--wait", try Binaries.pgbackup(), "--verbose", "create", "-d", "own session"],
            environment: ctx.environment(database: db), timeout: .seconds(180))
        #expect(own.status == 0, "\(own)")
        let autogroups = FileManager.default.fileExists(atPath: "/proc/self/autogroup")
        #expect(own.err.contains("lowered the session's CPU weight (autogroup nice 10)") == autogroups, "\(own)")

        let shared = try ctx.pgbackup(["--verbose", "create", "-d", "shared session"], database: db)
        #expect(shared.status == 0, "\(shared)")
        #expect(shared.err.contains("creating backup"), "the log line above is shown with --verbose: \(shared)")
        #expect(!shared.err.contains("lowered the session's CPU weight"), "\(shared)")
    }

    @Test func statusReportsSettingsBackupsAndHealth() throws {
        let db = try ctx.sampleDatabase("status")
        let settings = ["BACKUP_RETENTION_DAYS": "5", "BACKUP_MAX_COUNT": "9", "BACKUP_INTERVAL_HOURS": "12",
                        "BACKUP_ENABLED": "false"]
        let empty = try ctx.status(db, env: settings)
        #expect(empty["enabled"] as? Bool == false)
        #expect(empty["backup_directory"] as? String == ctx.backupDir.path)
        #expect(JSON.int(empty["retention_days"]) == 5)
        #expect(JSON.int(empty["max_backups"]) == 9)
        #expect(JSON.int(empty["interval_hours"]) == 12)
        #expect(JSON.int(empty["total_backups"]) == 0)
        #expect(JSON.int(empty["total_size_bytes"]) == 0)
        #expect(empty["last_backup"] is NSNull)
        #expect(empty["last_failure"] is NSNull)
        #expect(empty["running"] is NSNull)
        #expect(empty["healthy"] as? Bool == false, "no backup at all is not healthy")
        #expect(empty["orphans"] as? [String] == [])

        let first = try ctx.create(db, env: settings)
        let second = try ctx.create(db, env: settings)
        let status = try ctx.status(db, env: settings)
        #expect(JSON.int(status["total_backups"]) == 2)
        let sizes = try [first, second].map { try FileTools.size(ctx.backupURL($0)) }.reduce(0, +)
        #expect(JSON.int(status["total_size_bytes"]) == sizes)
        let last = try #require(status["last_backup"] as? [String: Any])
        #expect(last["filename"] as? String == second)
        #expect(last["kind"] as? String == "manual")
        #expect(last["created_at"] as? String == (try ctx.sidecar(second))["created_at"] as? String)
        #expect(status["healthy"] as? Bool == true)

        // The newest backup older than twice the interval: not healthy.
        try ctx.ageBackup(second, days: 2)
        try ctx.ageBackup(first, days: 3)
        #expect(try ctx.status(db, env: settings)["healthy"] as? Bool == false)

        let human = try ctx.pgbackup(["status"], database: db, env: settings)
        #expect(human.status == 0)
        #expect(human.out.contains(ctx.backupDir.path))
        #expect(human.out.contains(second))
    }

    @Test(arguments: [
        ("BACKUP_RETENTION_DAYS", "0"), ("BACKUP_MAX_COUNT", "-3"), ("BACKUP_INTERVAL_HOURS", "twelve"),
        ("BACKUP_ENABLED", "maybe"), ("BACKUP_COMPRESSION_LEVEL", "10"), ("POSTGRES_PORT", "99999"),
    ])
    func badSettingsStopEveryCommandNamingVariableAndValue(_ variable: String, _ value: String) throws {
        let db = try ctx.emptyDatabase("badsetting")
        for command in [["status"], ["list"], ["create"]] {
            let result = try ctx.pgbackup(command, database: db, env: [variable: value])
            #expect(result.status == 2, "\(command) with \(variable)=\(value): \(result)")
            #expect(result.err.contains(variable) && result.err.contains("'\(value)'"), "\(result.err)")
        }
        #expect(ctx.dumpFiles().isEmpty)
    }

    private func writeEnvFile() throws -> URL {
        let file = ctx.scratch.appending("pgbackup.env")
        let text = """
            # settings for the test
            BACKUP_MAX_COUNT=11
            BACKUP_RETENTION_DAYS=3
            BACKUP_INTERVAL_HOURS="6"
            BACKUP_ENABLED='no'
            NOT_EXECUTED=$(touch \(ctx.scratch.appending("executed").path))

            """
        try Data(text.utf8).write(to: file)
        return file
    }

    private func expectEnvFileApplied(_ status: [String: Any], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(JSON.int(status["max_backups"]) == 11, sourceLocation: sourceLocation)
        #expect(JSON.int(status["retention_days"]) == 4, "the real environment wins over the file", sourceLocation: sourceLocation)
        #expect(JSON.int(status["interval_hours"]) == 6, sourceLocation: sourceLocation)
        #expect(status["enabled"] as? Bool == false, sourceLocation: sourceLocation)
        #expect(!FileManager.default.fileExists(atPath: ctx.scratch.appending("executed").path),
                "the env file must be parsed, never executed", sourceLocation: sourceLocation)
    }

    @Test func envFileAfterTheSubcommandIsReadAndTheEnvironmentWins() throws {
        let db = try ctx.emptyDatabase("envfile")
        let file = try writeEnvFile()
        let result = try ctx.pgbackup(["status", "--env-file", file.path, "--json"], database: db,
                                      env: ["BACKUP_RETENTION_DAYS": "4"])
        try #require(result.status == 0, "\(result)")
        expectEnvFileApplied(try JSON.object(result.stdout))
    }

    @Test func envFileBeforeTheSubcommandIsReadAsDocumented() throws {
        // `pgbackup [--env-file PATH] SUBCOMMAND` is the documented form (brief and DESIGN.md).
        let db = try ctx.emptyDatabase("envfirst")
        let file = try writeEnvFile()
        let result = try ctx.pgbackup(["--env-file", file.path, "status", "--json"], database: db,
                                      env: ["BACKUP_RETENTION_DAYS": "4"])
        try #require(result.status == 0, "\(result)")
        expectEnvFileApplied(try JSON.object(result.stdout))
    }
}
