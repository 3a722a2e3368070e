import ArgumentParser
import BackupCore

struct Cleanup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply retention: keep backups younger than BACKUP_RETENTION_DAYS or among the newest BACKUP_MAX_COUNT of their database.")

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
        // Retention is applied per database, so the answer is grouped the same way.
        for plan in result.databases {
            // The database name comes from the sidecars, which nothing checked when the old tool wrote them.
            let database = plan.database.isEmpty ? "(unknown)" : DescriptionText.displayable(plan.database)
            print("Database \(database): keeping \(plan.keep.count), \(verb.lowercased()) \(plan.delete.count)")
            for name in plan.keep { print("   ✅ Keep \(name)") }
            for name in plan.delete { print("   🗑️  \(verb) \(name)") }
        }
        print("\(verb) \(result.deleted.count) backup(s), kept \(result.kept.count)")
    }
}
