import ArgumentParser
import BackupCore

struct Restore: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Restore a backup into the database, in one transaction, after a safety backup of it.",
        discussion: "With --swap the backup goes into a new database beside the target, is checked there, and is then "
            + "swapped in by renaming (one short transaction); the target's previous state stays as "
            + "<db>_before_YYYYMMDD_HHMMSS for 'pgbackup rollback'. See the README, 'Restore modes'.")

    @Argument(help: "The backup's file name.")
    var name: String

    @Option(name: .customLong("target-db"), help: "Restore into this database instead of POSTGRES_DB (it must exist).")
    var targetDatabase: String?

    @Flag(name: .customLong("no-safety-backup"), help: "Skip the backup of the target taken before restoring.")
    var noSafetyBackup = false

    @Flag(name: .long, help: "Restore into a new database made like the target, check it, then swap it in (no lock ceiling; needs CREATEDB).")
    var swap = false

    @Flag(name: .customLong("safety-backup"), help: "With --swap: take the safety backup too (without --swap it is on unless --no-safety-backup).")
    var safetyBackup = false

    @Flag(name: .customLong("terminate-connections"),
          help: "End every other session on the target database (and only there) before restoring.")
    var terminateConnections = false

    @Flag(name: .long, help: "Do not ask for confirmation.")
    var yes = false

    @Option(name: .long, help: "The age identity (private key) file to decrypt an encrypted backup with, mode 0600 (instead of BACKUP_AGE_IDENTITY_FILE).")
    var identity: String?

    @OptionGroup var options: CommonOptions

    func run() throws {
        let context = try Context(options, identity: identity)
        if safetyBackup && noSafetyBackup {
            throw ValidationError("--safety-backup and --no-safety-backup contradict each other")
        }
        _ = try context.perform { try BackupName.validate(name) }
        // Settled before asking: a backup of another database is refused without --target-db, even with --yes.
        let (target, other) = try context.perform {
            let metadata = try context.manager.info(name)
            let target = try context.manager.restoreTarget(for: metadata, explicit: targetDatabase)
            // An encrypted backup without its key is refused before the prompt, as it would be after it.
            _ = try context.manager.identity(for: metadata, required: true)
            let other = BackupManager.isBackup(metadata, ofAnotherDatabaseThan: target)
            return (target, other ? BackupManager.sourceDatabase(of: metadata) : nil)
        }
        var warning = ["⚠️  WARNING: This will restore the database from backup!",
                       "   Backup file: \(name)", "   Target database: \(target)"]
        if let other {
            warning.append("   ⚠️  This backup is of ANOTHER database, '\(other)': the contents of '\(target)' "
                + "will be replaced by those of '\(other)'.")
        }
        if swap {
            warning.append("   Mode: swap (a new database is loaded and checked beside '\(target)', then renamed into its place; "
                + "'\(target)' as it is now is kept for 'pgbackup rollback')")
        }
        if terminateConnections { warning.append("   Every other session on '\(target)' will be ended first.") }
        try context.confirm(warning, assumeYes: yes)
        let progress = context.progress
        let result = try context.perform {
            swap ? try context.manager.restoreSwap(name, targetDatabase: targetDatabase, safetyBackup: safetyBackup,
                                                   terminateConnections: terminateConnections, progress: progress)
                : try context.manager.restore(name, targetDatabase: targetDatabase, safetyBackup: !noSafetyBackup,
                                              terminateConnections: terminateConnections, progress: progress)
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
        for session in result.terminatedSessions ?? [] { print("🔌 Ended session \(session.summary)") }
        for dropped in result.droppedDatabases { print("🗑  Dropped \(dropped)") }
        if result.mode == .swap {
            print("🔁 Swapped in within \(String(format: "%.3f", result.swapSeconds ?? 0)) s; previous database: "
                + (result.previousDatabase.map { "\($0) (undo with 'pgbackup rollback')" } ?? "dropped (BACKUP_KEEP_PREVIOUS_DATABASES=0)"))
        }
        print("✅ Database '\(target)' restored from \(name)")
    }
}
