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
        try context.perform { try context.manager.delete(name) }
        if options.json {
            Output.json(.object([("success", .bool(true)), ("message", .string("Backup \(name) deleted"))]))
        } else {
            print("🗑️  Deleted \(name)")
        }
    }
}
