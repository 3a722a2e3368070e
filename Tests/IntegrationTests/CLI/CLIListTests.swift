import Foundation
import TestSupport
import Testing

/// `list` is newest first, carries the full sidecar, and survives damaged sidecars.
@Suite("CLI: list", .serialized, .postgresCluster)
final class CLIListTests {
    let ctx: CLITestContext

    init() throws { ctx = try CLITestContext() }
    deinit { ctx.remove() }

    static let oldToolFields = ["filename", "timestamp", "created_at", "database", "size_bytes", "size_mb", "description", "compressed"]
    static let ourFields = ["sha256", "uncompressed_bytes", "duration_seconds", "kind", "pg_dump_version",
                            "server_version", "format_version", "verified"]

    @Test func listIsNewestFirstAndEachEntryDescribesItsFileExactly() throws {
        let db = try ctx.sampleDatabase("listing")
        var names: [String] = []
        for description in ["first", "second", "third"] {
            names.append(try ctx.create(db, description: description))
            try ctx.cluster.psql("INSERT INTO notes VALUES ((SELECT max(id) + 1 FROM notes), '\(description)')", database: db)
        }
        let listing = try ctx.list(db)
        #expect(listing.compactMap { $0["filename"] as? String } == names.reversed())
        #expect(listing.compactMap { $0["description"] as? String } == ["third", "second", "first"])
        let created = listing.compactMap { $0["created_at"] as? String }
        #expect(created.count == 3 && created == created.sorted(by: >), "created_at must fall: \(created)")

        for entry in listing {
            let name = try #require(entry["filename"] as? String)
            for field in Self.oldToolFields + Self.ourFields {
                #expect(entry[field] != nil, "\(name) lacks \(field)")
            }
            let file = ctx.backupURL(name)
            let size = try FileTools.size(file)
            #expect(JSON.int(entry["size_bytes"]) == size)
            #expect(abs((JSON.double(entry["size_mb"]) ?? -1) - Double(size) / 1_048_576) < 0.006)
            #expect(entry["sha256"] as? String == (try BackupFiles.sha256(file)))
            #expect(JSON.int(entry["uncompressed_bytes"]) == (try BackupFiles.gunzip(file)).count)
            #expect(entry["database"] as? String == db)
            #expect(entry["compressed"] as? Bool == true)
            #expect(entry["kind"] as? String == "manual")
            #expect(JSON.int(entry["format_version"]) == 1)
            #expect(entry["verified"] as? Bool == true)
            #expect((JSON.double(entry["duration_seconds"]) ?? -1) >= 0)
            #expect((entry["pg_dump_version"] as? String)?.contains("15.") == true)
            #expect((entry["server_version"] as? String)?.contains("15.") == true)
            let timestamp = try #require(entry["timestamp"] as? String)
            #expect(name.contains("_\(timestamp)"))
            // created_at and the name's timestamp describe the same second.
            let compactCreated = (entry["created_at"] as? String ?? "").prefix(19)
                .replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "").replacingOccurrences(of: "T", with: "_")
            #expect(compactCreated == timestamp)
            #expect(try ctx.sidecar(name)["sha256"] as? String == entry["sha256"] as? String)
        }

        let human = try ctx.pgbackup(["list"], database: db)
        try #require(human.status == 0, "\(human)")
        #expect(human.out.contains("📦 Available Backups (3):"))
        let positions = names.compactMap { human.out.range(of: $0)?.lowerBound }
        #expect(positions.count == 3 && positions == positions.sorted(by: >), "table rows newest first")
        let totalBytes = try names.map { try FileTools.size(ctx.backupURL($0)) }.reduce(0, +)
        #expect(human.out.contains(String(format: "Total: 3 backups, %.2f MB", Double(totalBytes) / 1_048_576)), "\(human.out)")
        #expect(human.out.contains("third"))
    }

    @Test func damagedSidecarsAreReportedWithoutBreakingTheList() throws {
        let db = try ctx.sampleDatabase("damagedmeta")
        let broken = try ctx.create(db, description: "will be damaged")
        let wrongType = try ctx.create(db, description: "wrong type")
        let good = try ctx.create(db, description: "intact")
        try Data("{\"filename\": \"truncated".utf8).write(to: ctx.sidecarURL(broken))
        var sidecar = try ctx.sidecar(wrongType)
        sidecar["size_bytes"] = "a lot"
        try JSON.write(sidecar, to: ctx.sidecarURL(wrongType))

        let listing = try ctx.list(db)
        #expect(listing.count == 3)
        let byName = Dictionary(uniqueKeysWithValues: listing.compactMap { entry in
            (entry["filename"] as? String).map { ($0, entry) }
        })
        for damaged in [broken, wrongType] {
            let entry = try #require(byName[damaged], "\(damaged) missing from the list")
            #expect((entry["error"] as? String)?.isEmpty == false, "\(damaged) has no error field")
            #expect(entry["verified"] as? Bool == false)
        }
        #expect((byName[wrongType]?["error"] as? String)?.contains("size_bytes") == true)
        #expect(byName[good]?["error"] == nil)
        #expect(byName[good]?["description"] as? String == "intact")
        #expect(byName[good]?["verified"] as? Bool == true)

        let human = try ctx.pgbackup(["list"], database: db)
        #expect(human.status == 0, "\(human)")
        #expect(human.out.contains(good) && human.out.contains(broken))

        let status = try ctx.status(db)
        #expect(JSON.int(status["total_backups"]) == 1)
        // A damaged sidecar makes its backup unrestorable, not the others.
        let restore = try ctx.pgbackup(["restore", broken, "--yes", "--no-safety-backup"], database: db)
        #expect(restore.status != 0)
        let verifyGood = try ctx.pgbackup(["verify", good], database: db)
        #expect(verifyGood.status == 0, "\(verifyGood)")
    }

    @Test func descriptionsKeepUnicodeAndQuotesButRefuseControlCharacters() throws {
        let db = try ctx.sampleDatabase("descriptions")
        let text = "Vor dem Upgrade 😀 \"quoted\" 'single' \\ back\\slash, 漢字 e\u{301}"
        let name = try ctx.create(db, description: text)
        #expect(try ctx.list(db).first?["description"] as? String == text)
        #expect(try ctx.sidecar(name)["description"] as? String == text)
        #expect(try ctx.pgbackup(["list"], database: db).out.contains(text))

        let newline = try ctx.pgbackup(["create", "-d", "two\nlines", "--json"], database: db)
        #expect(newline.status == 2, "\(newline)")
        #expect(try JSON.object(newline.stdout)["error"] as? String == "invalid_input")
        #expect(ctx.dumpFiles() == [name])
    }

    @Test func theTableShowsAnOldToolDescriptionsControlsAsReplacementsAndJSONKeepsThemExact() throws {
        let db = try ctx.emptyDatabase("hostile")
        let hostile = "old tool \u{1B}]0;pwned-title\u{7}\u{1B}[2J cleared \u{202E}txt.exe"
        let name = try BackupFiles.writeOldToolBackup(
            dump: Data("SELECT 1;\n--\n-- PostgreSQL database dump complete\n--\n".utf8), database: db,
            timestamp: "20200101_120000", createdAt: "2020-01-01T12:00:00", description: hostile, in: ctx.backupDir)

        let human = try ctx.pgbackup(["list"], database: db)
        try #require(human.status == 0, "\(human)")
        let row = try #require(human.out.split(separator: "\n").first { $0.hasPrefix(name) }, "\(human.out)")
        #expect(row.hasSuffix("old tool \u{FFFD}]0;pwned-title\u{FFFD}\u{FFFD}[2J cleared \u{FFFD}txt.exe (no checksum: made by an older tool)"))
        #expect(!human.stdout.contains(0x1B) && !human.stdout.contains(0x07), "raw ESC or BEL reached the terminal")
        #expect(try ctx.list(db).first?["description"] as? String == hostile)
    }

    @Test func emptyOrAbsentDirectoryListsNothing() throws {
        let db = try ctx.emptyDatabase("nothing")
        #expect(try ctx.list(db).isEmpty)
        let human = try ctx.pgbackup(["list"], database: db)
        #expect(human.status == 0, "\(human)")
        #expect(human.out.contains("📦 Available Backups (0):"))
        #expect(human.out.contains("Total: 0 backups, 0.00 MB"))
    }
}

/// The table's columns are sized to the data: a long name never pushes its row out of line.
@Suite("CLI: list table layout", .serialized, .postgresCluster)
final class CLIListLayoutTests {
    let ctx: CLITestContext

    init() throws { ctx = try CLITestContext() }
    deinit { ctx.remove() }

    @Test func columnsLineUpWhenANameIsLongerThanItsColumn() throws {
        // 55 characters: the backup name is over 80, far past the old tool's 45-column name field.
        let long = CLITestContext.uniqueName("a_database_name_that_is_much_longer_than_usual_x")
        try ctx.cluster.createDatabase(long)
        let short = try ctx.emptyDatabase("s")
        try ctx.create(short, description: "short one")
        try ctx.create(long, description: "long one")
        let human = try ctx.pgbackup(["list"], database: short)
        try #require(human.status == 0, "\(human)")
        let rows = human.out.split(separator: "\n").map(String.init).filter { $0.hasPrefix("backup_") || $0.hasPrefix("Filename") }
        #expect(rows.count == 3, "\(human.out)")
        // Every row's size column ("MB" or "Size") starts at the same character offset, and so does Created.
        let sizeStarts = rows.map { row -> Int in
            let name = row.prefix { $0 != " " }
            return name.count + row.dropFirst(name.count).prefix { $0 == " " }.count
        }
        #expect(Set(sizeStarts).count == 1, "size columns start at \(sizeStarts):\n\(human.out)")
        let descriptionStarts = rows.map { row -> Int in
            (row.range(of: "short one") ?? row.range(of: "long one") ?? row.range(of: "Description")).map { row.distance(from: row.startIndex, to: $0.lowerBound) } ?? -1
        }
        #expect(Set(descriptionStarts).count == 1, "descriptions start at \(descriptionStarts):\n\(human.out)")
        #expect(sizeStarts.first ?? 0 > long.count + 24, "the name column holds the longest name")
    }
}
