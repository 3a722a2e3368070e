import ArgumentParser
import BackupCore

struct Sync: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Refresh the local index of BACKUP_REMOTE, so list, restore and verify see the backups there.")

    @OptionGroup var options: CommonOptions

    func run() throws {
        let context = try Context(options)
        let result = try context.perform { try context.manager.sync() }
        if options.json {
            Output.json(result.json)
            return
        }
        print("☁️  \(result.remoteBackups) backup(s) on the remote; \(result.pending.count) pending upload")
    }
}
