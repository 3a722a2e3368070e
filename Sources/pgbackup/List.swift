import ArgumentParser
import BackupCore
import Foundation

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List backups, newest first.")

    @OptionGroup var options: CommonOptions

    func run() throws {
        let context = try Context(options)
        let listing = try context.perform { try context.manager.list() }
        if options.json {
            Output.json(.array(listing.entries.map(\.json)))
            return
        }
        print(Self.table(listing))
    }

    /// The seed's layout: a header, one row a backup, a total.
    static func table(_ listing: BackupStore.Listing) -> String {
        let rule = String(repeating: "─", count: 80)
        func row(_ name: String, _ size: String, _ created: String, _ description: String) -> String {
            func pad(_ text: String, _ width: Int) -> String {
                text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count + 1)
            }
            return pad(name, 45) + pad(size, 12) + pad(created, 24) + description
        }
        var lines = ["📦 Available Backups (\(listing.backups.count)):", rule,
                     row("Filename", "Size", "Created", "Description"), rule]
        for backup in listing.backups {
            let created = Timestamp.iso8601(backup.createdAt).prefix(19).replacingOccurrences(of: "T", with: " ")
            var description = backup.description
            if !backup.verified { description += " (no checksum: made by an older tool)" }
            lines.append(row(backup.filename, Output.megabytes(backup.sizeBytes), created, description))
        }
        for damaged in listing.damaged {
            lines.append(row(damaged.filename, "?", "?", "⚠️  damaged: \(damaged.error)"))
        }
        lines.append(rule)
        let total = listing.backups.reduce(Int64(0)) { $0 + $1.sizeBytes }
        lines.append("Total: \(listing.backups.count) backups, \(Output.megabytes(total))")
        if !listing.orphans.isEmpty {
            lines.append("")
            lines.append("⚠️  Incomplete dumps without metadata (not restorable, never deleted automatically; "
                + "remove them by hand once you are sure):")
            lines.append(contentsOf: listing.orphans.map { "   \($0)" })
        }
        return lines.joined(separator: "\n")
    }
}
