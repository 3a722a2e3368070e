import Foundation
import Testing

/// delete, cleanup, status, settings, name checks and confirmation.
@Suite("CLI: delete, cleanup, status and input checks", .serialized, .postgresCluster)
final class CLIManagementTests {
    let ctx: CLITestContext

    init() throws { ctx = try CLITestContext() }
    deinit { ctx.remove() }

    /// Moves a backup's `created_at` into the past, as if it had been made `days` ago.
    private func age(_ name: String, days: Double) throws {
        var sidecar = try ctx.sidecar(name)
        sidecar["created_at"] = TimeText.iso8601(Date().addingTimeInterval(-days * 86_400))
        try JSON.write(sidecar, to: ctx.sidecarURL(name))
    }

    @Test func deleteRemovesTheDumpAndItsSidecarAndNothingElse() throws {
        let db = try ctx.sampleDatabase("delete")
        let doomed = try ctx.create(db, description: "doomed")
        let kept = try ctx.create(db, description: "kept")

        let result = try ctx.pgbackup(["delete", doomed, "--yes", "--json"], database: db)
        try #require(result.status == 0, "\(result)")
        #expect(try JSON.object(result.stdout)["success"] as? Bool == true)
        #expect(!FileManager.default.fileExists(atPath: ctx.backupURL(doomed).path))
        #expect(!FileManager.default.fileExists(atPath: ctx.sidecarURL(doomed).path))
        #expect(ctx.dumpFiles() == [kept])
        #expect(FileManager.default.fileExists(atPath: ctx.sidecarURL(kept).path))
        #expect(try ctx.list(db).compactMap { $0["filename"] as? String } == [kept])

        let again = try ctx.pgbackup(["delete", doomed, "--yes", "--json"], database: db)
        #expect(again.status == 2, "\(again)")
        #expect(try JSON.object(again.stdout)["error"] as? String == "not_found")
        #expect(again.err.contains(doomed))
    }

    @Test func cleanupDryRunNamesWhatCleanupThenDeletes() throws {
        let db = try ctx.sampleDatabase("cleanup")
        let thirtyDays = try ctx.create(db, description: "30 days")
        let twentyDays = try ctx.create(db, description: "20 days")
        let tenDays = try ctx.create(db, description: "10 days")
        let fresh = try ctx.create(db, description: "fresh")
        try age(thirtyDays, days: 30)
        try age(twentyDays, days: 20)
        try age(tenDays, days: 10)
        // An old dump without a sidecar: someone's only copy, perhaps; never deleted automatically.
        let orphan = "backup_\(db)_20200101_000000.sql.gz"
        try Data(try Data(contentsOf: ctx.backupURL(fresh))).write(to: ctx.backupURL(orphan))
        let retention = ["BACKUP_RETENTION_DAYS": "7", "BACKUP_MAX_COUNT": "2"]
        let expectedDeleted: Set = [thirtyDays, twentyDays]
        let before = ctx.directorySnapshot()

        let dryRun = try ctx.pgbackup(["cleanup", "--dry-run", "--json"], database: db, env: retention)
        try #require(dryRun.status == 0, "\(dryRun)")
        let preview = try JSON.object(dryRun.stdout)
        #expect(Set(preview["deleted"] as? [String] ?? []) == expectedDeleted)
        #expect(JSON.int(preview["kept"]) == 2)
        #expect(ctx.directorySnapshot() == before, "a dry run changes nothing")
        let humanDryRun = try ctx.pgbackup(["cleanup", "--dry-run"], database: db, env: retention)
        #expect(humanDryRun.status == 0)
        #expect(expectedDeleted.allSatisfy { humanDryRun.out.contains($0) })
        #expect(ctx.directorySnapshot() == before)

        let cleanup = try ctx.pgbackup(["cleanup", "--json"], database: db, env: retention)
        try #require(cleanup.status == 0, "\(cleanup)")
        #expect(Set(try JSON.object(cleanup.stdout)["deleted"] as? [String] ?? []) == expectedDeleted)
        #expect(ctx.dumpFiles() == [orphan, tenDays, fresh].sorted())
        for name in expectedDeleted {
            #expect(!FileManager.default.fileExists(atPath: ctx.sidecarURL(name).path))
        }
        #expect(try ctx.list(db).compactMap { $0["filename"] as? String } == [fresh, tenDays])
        let status = try ctx.status(db, env: retention)
        #expect(status["orphans"] as? [String] == [orphan])
        let humanList = try ctx.pgbackup(["list"], database: db)
        #expect(humanList.out.contains(orphan), "list must show the orphan for a person to decide")

        // Nothing more to delete: the second run is a no-op.
        let second = try ctx.pgbackup(["cleanup", "--json"], database: db, env: retention)
        #expect((try JSON.object(second.stdout)["deleted"] as? [String]) == [])
    }

    @Test func createAppliesRetentionButNeverDeletesTheNewestBackup() throws {
        let db = try ctx.sampleDatabase("autoclean")
        let old = try ctx.create(db, description: "old")
        try age(old, days: 40)
        let newest = try ctx.create(db, description: "newest", env: ["BACKUP_RETENTION_DAYS": "1", "BACKUP_MAX_COUNT": "1"])
        #expect(ctx.dumpFiles() == [newest])
        // All backups beyond every limit: cleanup still keeps the newest one.
        try age(newest, days: 400)
        let cleanup = try ctx.pgbackup(["cleanup", "--json"], database: db, env: ["BACKUP_RETENTION_DAYS": "1", "BACKUP_MAX_COUNT": "1"])
        #expect(cleanup.status == 0)
        #expect(ctx.dumpFiles() == [newest])
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
        try age(second, days: 2)
        try age(first, days: 3)
        #expect(try ctx.status(db, env: settings)["healthy"] as? Bool == false)

        let human = try ctx.pgbackup(["status"], database: db, env: settings)
        #expect(human.status == 0)
        #expect(human.out.contains(ctx.backupDir.path))
        #expect(human.out.contains(second))
    }

    static let invalidNames = [
        "../backup_x_20260101_000000.sql.gz",
        "backup_x_20260101_000000.sql.gz/../../../etc/passwd",
        "/etc/passwd",
        ".partial/backup_x_20260101_000000.sql.gz",
        "backup_x_20260101_000000.sql.gz.json",
        "backup_x_20260101_000000.sql",
        "backup_x_2026011_000000.sql.gz",
        "backup__20260101_000000.sql.gz",
        "backup_x_20260101_000000.sql.gz\n",
        "backup_x y_20260101_000000.sql.gz",
        "",
    ]

    @Test(arguments: ["verify", "restore", "delete"])
    func invalidNamesAreRejectedBeforeTouchingAnything(_ command: String) throws {
        let db = try ctx.sampleDatabase("names")
        _ = try ctx.create(db)
        let before = ctx.directorySnapshot()
        let dumpBefore = try ctx.cluster.normalisedDump(db)
        for name in Self.invalidNames {
            var arguments = [command, name, "--json"]
            if command != "verify" { arguments.append("--yes") }
            let result = try ctx.pgbackup(arguments, database: db)
            #expect(result.status == 2, "\(command) \(name.debugDescription): \(result)")
            #expect(!result.err.isEmpty)
            if !name.isEmpty {
                #expect((try? JSON.object(result.stdout))?["error"] as? String == "invalid_input",
                        "\(command) \(name.debugDescription): \(result.out)")
            }
        }
        #expect(ctx.directorySnapshot() == before)
        #expect(try ctx.cluster.normalisedDump(db) == dumpBefore)
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

    @Test(arguments: ["restore", "delete"])
    func withoutATerminalAndWithoutYesNothingHappens(_ command: String) throws {
        let db = try ctx.sampleDatabase("confirm")
        let name = try ctx.create(db)
        try ctx.cluster.psql("UPDATE canary SET value = 'must survive'", database: db)
        let dumpBefore = try ctx.cluster.normalisedDump(db)
        let filesBefore = ctx.directorySnapshot()

        // Even "yes" on a pipe is not a person at a terminal.
        let piped = try ctx.pgbackup([command, name], database: db, stdin: Data("yes\n".utf8))
        #expect(piped.status == 2, "\(piped)")
        #expect(piped.err.contains("--yes"))
        let devNull = try ctx.pgbackup([command, name, "--json"], database: db)
        #expect(devNull.status == 2, "\(devNull)")

        #expect(ctx.directorySnapshot() == filesBefore)
        DumpComparison.expectEqual(dumpBefore, try ctx.cluster.normalisedDump(db), "database after the refusal")
        #expect(try ctx.cluster.psql("SELECT value FROM canary", database: db) == "must survive")
    }

    /// Runs pgbackup on a pseudo-terminal (script(1)), typing `answer` at it.
    private func onTerminal(_ arguments: [String], database: String, answer: String) throws -> ProcessResult {
        let command = ([try Binaries.pgbackup()] + arguments).map { "'\($0)'" }.joined(separator: " ")
        return try ProcessRunner.run(
            try ProcessRunner.tool("script"), ["-q", "-e", "-c", command, "/dev/null"],
            environment: ctx.environment(database: database).merging(["SHELL": "/bin/sh"]) { _, new in new },
            stdin: Data((answer + "\n").utf8), timeout: .seconds(120))
    }

    @Test func onATerminalOnlyTheAnswerYesGoesAhead() throws {
        let db = try ctx.sampleDatabase("terminal")
        let first = try ctx.create(db, description: "first")
        let second = try ctx.create(db, description: "second")

        let declined = try onTerminal(["delete", first], database: db, answer: "no")
        #expect(declined.status == 1, "\(declined)")
        #expect(declined.out.contains("Type 'yes' to continue"))
        #expect(ctx.dumpFiles() == [first, second].sorted())

        let accepted = try onTerminal(["delete", first], database: db, answer: "yes")
        #expect(accepted.status == 0, "\(accepted)")
        #expect(ctx.dumpFiles() == [second])

        try ctx.cluster.psql("UPDATE canary SET value = 'before terminal restore'", database: db)
        let restore = try onTerminal(["restore", second, "--no-safety-backup"], database: db, answer: "yes")
        #expect(restore.status == 0, "\(restore)")
        #expect(restore.out.contains("WARNING: This will restore the database from backup!"))
        #expect(try ctx.cluster.psql("SELECT value FROM canary", database: db) == SampleSchema.canaryValue)
    }
}
