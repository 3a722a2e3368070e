import ArgumentParser
import BackupCore

struct Rollback: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Swap the newest previous database a 'restore --swap' kept back in place of the target.",
        discussion: "One transaction renames the target to <db>_before_YYYYMMDD_HHMMSS and the newest kept "
            + "<db>_before_* back to the target, so a rollback is undone by another rollback. No other session may "
            + "be connected to either database (or pass --terminate-connections).")

    @Option(name: [.customLong("target-db"), .customLong("database")], help: "The database to roll back (default: POSTGRES_DB).")
    var targetDatabase: String?

    @Flag(name: .customLong("terminate-connections"),
          help: "End every other session on the target and on the previous database before swapping.")
    var terminateConnections = false

    @Flag(name: .long, help: "Do not ask for confirmation.")
    var yes = false

    @OptionGroup var options: CommonOptions

    func run() throws {
        let context = try Context(options)
        let target = targetDatabase ?? context.manager.configuration.postgres.database
        var warning = ["⚠️  WARNING: This will replace the database with its previous version!",
                       "   Target database: \(target) (it is kept as \(target)_before_<now>)"]
        if terminateConnections { warning.append("   Every other session on '\(target)' will be ended first.") }
        try context.confirm(warning, assumeYes: yes)
        let result = try context.perform {
            try context.manager.rollback(targetDatabase: targetDatabase, terminateConnections: terminateConnections)
        }
        if options.json {
            Output.json(result.json)
            return
        }
        for session in result.terminatedSessions ?? [] { print("🔌 Ended session \(session.summary)") }
        for dropped in result.droppedDatabases { print("🗑  Dropped \(dropped)") }
        print("✅ Database '\(target)' rolled back to \(result.restoredDatabase) (swap \(String(format: "%.3f", result.swapSeconds)) s)"
            + (result.previousDatabase.map { "; what it was is now \($0)" } ?? ""))
    }
}
