import ArgumentParser
import BackupCore

struct Cleanup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply retention: keep backups younger than BACKUP_RETENTION_DAYS or among the newest BACKUP_MAX_COUNT.")

    @Flag(name: .long, help: "Show what would be deleted without deleting.")
    var dryRun = false

    @OptionGroup var options: CommonOptions

    func run() throws {
        let context = try Context(options)
        let result = try context.perform { try context.manager.cleanup(dryRun: dryRun) }
        if options.json {
            Output.json(result.json)
            return
        }
        let verb = dryRun ? "Would delete" : "Deleted"
        for name in result.deleted { print("🗑️  \(verb) \(name)") }
        print("\(verb) \(result.deleted.count) backup(s), kept \(result.kept.count)")
    }
}
