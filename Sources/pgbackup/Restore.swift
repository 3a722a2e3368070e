import ArgumentParser
import BackupCore

struct Restore: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Restore a backup into the database, in one transaction, after a safety backup of it.")

    @Argument(help: "The backup's file name.")
    var name: String

    @Option(name: .customLong("target-db"), help: "Restore into this database instead of POSTGRES_DB (it must exist).")
    var targetDatabase: String?

    @Flag(name: .customLong("no-safety-backup"), help: "Skip the backup of the target taken before restoring.")
    var noSafetyBackup = false

    @Flag(name: .long, help: "Do not ask for confirmation.")
    var yes = false

    @OptionGroup var options: CommonOptions

    func run() throws {
        let context = try Context(options)
        _ = try context.perform { try BackupName.validate(name) }
        let target = targetDatabase ?? context.manager.configuration.postgres.database
        try context.confirm(["⚠️  WARNING: This will restore the database from backup!",
                             "   Backup file: \(name)", "   Target database: \(target)"], assumeYes: yes)
        let progress = context.progress
        let result = try context.perform {
            try context.manager.restore(name, targetDatabase: targetDatabase, safetyBackup: !noSafetyBackup,
                                        progress: progress)
        }
        if progress != nil { Output.status("\r\u{1B}[K") }
        if let signal = Interruption.shared.signal {
            Output.warn("\(Interruption.name(signal)) arrived after COMMIT was sent; psql was let finish and the restore completed")
        }
        if options.json {
            Output.json(result.json)
            return
        }
        if let safety = result.safetyBackup { print("🛟 Safety backup of '\(target)': \(safety.filename)") }
        print("✅ Database '\(target)' restored from \(name)")
    }
}
