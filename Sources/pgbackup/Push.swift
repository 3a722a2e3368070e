import ArgumentParser
import BackupCore

struct Push: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Upload the backups still pending upload to BACKUP_REMOTE, oldest first, then apply remote retention.")

    @OptionGroup var options: CommonOptions

    func run() throws {
        let context = try Context(options)
        let result = try context.perform { try context.manager.push(progress: context.progress) }
        if context.progress != nil { Output.status("\r\u{1B}[K") }
        if options.json {
            Output.json(result.json)
            return
        }
        for name in result.uploaded { print("☁️  Uploaded \(name)") }
        for name in result.remoteDeleted { print("🗑️  Deleted from the remote: \(name)") }
        print("Uploaded \(result.uploaded.count) backup(s); \(result.pending.count) pending; "
            + "\(result.remoteBackups) on the remote")
    }
}
