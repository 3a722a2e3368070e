import ArgumentParser
import BackupCore

struct Drill: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Restore a backup into a scratch database, compare every table's rows with the backup's, drop it (exit 4 when it fails).",
        discussion: "The scratch database is <BACKUP_DRILL_DATABASE>_YYYYMMDD_HHMMSS on the same server, created from template0 "
            + "(the role needs CREATEDB) and dropped afterwards, after a failure too. POSTGRES_DB is never changed.")

    @Argument(help: "The backup's file name (default: the newest complete backup of POSTGRES_DB).")
    var name: String?

    @Option(name: .long, help: "The age identity (private key) file to decrypt an encrypted backup with, mode 0600 (instead of BACKUP_AGE_IDENTITY_FILE).")
    var identity: String?

    @OptionGroup var options: CommonOptions

    func run() throws {
        let context = try Context(options, identity: identity)
        let progress = context.progress
        let result = try context.perform { try context.manager.drill(name, progress: progress) }
        if progress != nil { Output.status("\r\u{1B}[K") }
        if options.json {
            Output.json(result.json)
            return
        }
        for leftover in result.droppedLeftovers { Output.warn("dropped \(leftover), left by an earlier drill that did not finish") }
        print("✅ \(result.message)")
        for (table, rows) in result.tablesFound { print("   \(table): \(rows)") }
    }
}
