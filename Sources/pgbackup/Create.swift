import ArgumentParser
import BackupCore

struct Create: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Make a backup of the configured database now.")

    @Option(name: [.short, .long], help: "A note stored with the backup.")
    var description = "Manual backup"

    @OptionGroup var options: CommonOptions

    func run() throws {
        let context = try Context(options)
        let progress = context.progress
        let metadata = try context.perform { try context.manager.create(description: description, yieldsSession: true, progress: progress) }
        if progress != nil { Output.status("\r\u{1B}[K") }
        if options.json {
            Output.json(.object([("success", .bool(true)), ("message", .string("Backup created successfully")),
                                 ("backup", metadata.listingJSON)]))
        } else {
            print("✅ Backup created successfully: \(metadata.filename) (\(Output.megabytes(metadata.sizeBytes)))")
        }
    }
}
