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
            Output.json(listing.json)
            return
        }
        print(Self.table(listing))
    }

    /// The old tool's layout: a header, one row a backup, a total. Columns are at least the old tool's widths and
    /// grow to the longest value, so a long name never pushes its row out of line.
    static func table(_ listing: BackupStore.Listing) -> String {
        typealias Row = (name: String, size: String, created: String, description: String)
        let located = listing.locatedEntries
        let shown = listing.remote == nil ? listing.backups : located.compactMap { entry -> BackupMetadata? in
            if case let .complete(metadata) = entry.entry { return metadata }
            return nil
        }
        var rows: [Row] = shown.map { backup in
            let created = Timestamp.iso8601(backup.createdAt).prefix(19).replacingOccurrences(of: "T", with: " ")
            // Sidecar text, perhaps from the old tool or a hand edit: never raw to the terminal (--json stays exact).
            var description = DescriptionText.displayable(backup.description)
            if !backup.verified { description += " (no checksum: made by an older tool)" }
            if listing.remote != nil, let entry = located.first(where: { $0.entry.filename == backup.filename }) {
                description += " [\(entry.locations.joined(separator: "+"))]"
            }
            return (backup.filename, Output.megabytes(backup.sizeBytes), created, description)
        }
        rows += listing.damaged.map { ($0.filename, "?", "?", "⚠️  damaged: \(DescriptionText.displayable($0.error))") }
        let header: Row = ("Filename", "Size", "Created", "Description")
        let widths = (name: max(44, rows.map(\.name.count).max() ?? 0), size: max(11, rows.map(\.size.count).max() ?? 0),
                      created: max(23, rows.map(\.created.count).max() ?? 0))
        func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: width - text.count + 1) }
        func line(_ row: Row) -> String {
            pad(row.name, widths.name) + pad(row.size, widths.size) + pad(row.created, widths.created) + row.description
        }
        let rule = String(repeating: "─", count: max(80, widths.name + widths.size + widths.created + 3 + header.description.count))
        var lines = ["📦 Available Backups (\(shown.count)):", rule, line(header), rule]
        lines += rows.map(line)
        lines.append(rule)
        let total = shown.reduce(Int64(0)) { $0 + $1.sizeBytes }
        lines.append("Total: \(shown.count) backups, \(Output.megabytes(total))")
        if !listing.orphans.isEmpty {
            lines.append("")
            lines.append("⚠️  Incomplete dumps without metadata (not restorable, never deleted automatically; "
                + "remove them by hand once you are sure):")
            lines.append(contentsOf: listing.orphans.map { "   \($0)" })
        }
        return lines.joined(separator: "\n")
    }
}
