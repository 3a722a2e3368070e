import Foundation
import TestSupport
import Testing

/// Names from outside are checked before anything is touched; restore and delete need a yes.
@Suite("CLI: names and confirmation", .serialized, .postgresCluster)
final class CLIInputChecksTests {
    let ctx: CLITestContext

    init() throws { ctx = try CLITestContext() }
    deinit { ctx.remove() }

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

    @Test(arguments: ["restore", "delete"])
    func withoutATerminalAndWithoutAYesLineNothingHappens(_ command: String) throws {
        let db = try ctx.sampleDatabase("confirm")
        let name = try ctx.create(db)
        try ctx.cluster.psql("UPDATE canary SET value = 'must survive'", database: db)
        let dumpBefore = try ctx.cluster.normalisedDump(db)
        let filesBefore = ctx.directorySnapshot()

        // An empty or closed stdin is no answer: refused as bad usage, naming --yes.
        let empty = try ctx.pgbackup([command, name], database: db, stdin: Data())
        #expect(empty.status == 2, "\(empty)")
        #expect(empty.err.contains("--yes"))
        let devNull = try ctx.pgbackup([command, name, "--json"], database: db)
        #expect(devNull.status == 2, "\(devNull)")
        #expect((try? JSON.object(devNull.stdout))?["error"] as? String == "invalid_input", "stdout is only the JSON: \(devNull.out)")
        // Any other line is a "no".
        for answer in ["no\n", "y\n", "YES please\n", "\n"] {
            let declined = try ctx.pgbackup([command, name], database: db, stdin: Data(answer.utf8))
            #expect(declined.status != 0, "\(answer.debugDescription): \(declined)")
        }

        #expect(ctx.directorySnapshot() == filesBefore)
        DumpComparison.expectEqual(dumpBefore, try ctx.cluster.normalisedDump(db), "database after the refusal")
        #expect(try ctx.cluster.psql("SELECT value FROM canary", database: db) == "must survive")
    }

    /// Scripts written for the old tool answer the prompt with `echo yes |`: that is as explicit as --yes.
    @Test func aYesLineOnAPipeGoesAheadThroughTheWrapper() throws {
        let db = try ctx.sampleDatabase("piped")
        let first = try ctx.create(db, description: "first")
        let second = try ctx.create(db, description: "second")
        var env = ctx.environment(database: db)
        env["PGBACKUP_BIN"] = try Binaries.pgbackup()
        let wrapper = try SourceTree.file("backup-database.sh").path

        try ctx.cluster.psql("UPDATE canary SET value = 'changed after the backup'", database: db)
        let restore = try ProcessRunner.run(try ProcessRunner.tool("bash"), [wrapper, "restore", second, "--no-safety-backup"],
                                            environment: env, stdin: Data("yes\n".utf8), timeout: .seconds(120))
        #expect(restore.status == 0, "\(restore)")
        #expect(restore.err.contains("Type 'yes' to continue"), "the prompt goes to stderr without a terminal: \(restore)")
        #expect(try ctx.cluster.psql("SELECT value FROM canary", database: db) == SampleSchema.canaryValue)

        let delete = try ProcessRunner.run(try ProcessRunner.tool("bash"), [wrapper, "delete", first, "--json"],
                                           environment: env, stdin: Data("yes\n".utf8), timeout: .seconds(60))
        #expect(delete.status == 0, "\(delete)")
        #expect((try? JSON.object(delete.stdout))?["success"] as? Bool == true, "stdout is only the JSON: \(delete.out)")
        #expect(ctx.dumpFiles() == [second])
    }

    @Test func withNoArgumentsAtAllUsageAndExit2() throws {
        let db = try ctx.emptyDatabase("usage")
        var env = ctx.environment(database: db)
        env["PGBACKUP_BIN"] = try Binaries.pgbackup()
        for (program, arguments) in [(try Binaries.pgbackup(), [String]()),
                                     (try ProcessRunner.tool("bash"), [try SourceTree.file("backup-database.sh").path])] {
            let result = try ProcessRunner.run(program, arguments, environment: env, timeout: .seconds(30))
            #expect(result.status == 2, "\(result)")
            #expect(result.err.contains("USAGE: pgbackup"), "\(result)")
            #expect(result.out.isEmpty)
        }
        let help = try ctx.pgbackup(["--help"], database: db)
        #expect(help.status == 0 && help.out.contains("USAGE: pgbackup"), "--help still answers on stdout with 0: \(help)")
    }

    @Test func onATerminalOnlyTheAnswerYesGoesAhead() throws {
        let db = try ctx.sampleDatabase("terminal")
        let first = try ctx.create(db, description: "first")
        let second = try ctx.create(db, description: "second")

        let declined = try ctx.onTerminal(["delete", first], database: db, answer: "no")
        #expect(declined.status == 1, "\(declined)")
        #expect(declined.out.contains("Type 'yes' to continue"))
        #expect(ctx.dumpFiles() == [first, second].sorted())

        let accepted = try ctx.onTerminal(["delete", first], database: db, answer: "yes")
        #expect(accepted.status == 0, "\(accepted)")
        #expect(ctx.dumpFiles() == [second])

        try ctx.cluster.psql("UPDATE canary SET value = 'before terminal restore'", database: db)
        let restore = try ctx.onTerminal(["restore", second, "--no-safety-backup"], database: db, answer: "yes")
        #expect(restore.status == 0, "\(restore)")
        #expect(restore.out.contains("WARNING: This will restore the database from backup!"))
        #expect(try ctx.cluster.psql("SELECT value FROM canary", database: db) == SampleSchema.canaryValue)
    }
}
