import ArgumentParser
import BackupCore

struct Delete: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Delete a backup and its metadata.")

    @Argument(help: "The backup's file name.")
    var name: String

    @Flag(name: .long, help: "Do not ask for confirmation.")
    var yes = false

    @OptionGroup var options: CommonOptions

    func run() throws {
        let context = try Context(options)
        _ = try context.perform { try BackupName.validate(name) }
        try context.confirm(["⚠️  WARNING: This will delete the backup permanently!", "   Backup file: \(name)"],
                            assumeYes: yes)
        let result = try context.perform { try context.manager.delete(name) }
        if options.json {
            Output.json(result.json)
        } else {
            print("🗑️  Deleted \(result.filename)")
        }
    }
}
