import ArgumentParser
import BackupCore
import CommandLineSupport

struct Create: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Make a backup of the configured database now.")

    @Option(name: [.short, .long], help: "A note stored with the backup.")
    var description = "Manual backup"

    @OptionGroup var options: CommonOptions

    func run() throws {
        let context = try Context(options)
        let progress = context.progress
        let result = try context.perform { try context.manager.create(description: description, yieldsSession: true, progress: progress) }
        if progress != nil { Output.status("\r\u{1B}[K") }
        if options.json {
            Output.json(result.json)
        } else {
            print("✅ \(CreateResult.message): \(result.backup.filename) (\(Output.megabytes(result.backup.sizeBytes)))")
        }
    }
}
