import ArgumentParser
import BackupCore

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a backup's SHA-256, gzip CRCs and dump trailer (exit 4 when one fails).")

    @Argument(help: "The backup's file name.")
    var name: String?

    @Flag(name: .long, help: "Verify every backup.")
    var all = false

    @OptionGroup var options: CommonOptions

    func validate() throws {
        guard (name == nil) != !all else { throw ValidationError("give either a backup name or --all") }
    }

    func run() throws {
        let context = try Context(options)
        if let name {
            let report = try context.perform { try context.manager.verify(name, progress: context.progress) }
            if context.progress != nil { Output.status("\r\u{1B}[K") }
            if options.json { Output.json(report.json) } else { print(Self.line(report)) }
            return
        }
        let listing = try context.perform { try context.manager.list() }
        var results: [JSON] = []
        var failures = 0
        var gone = 0
        for backup in listing.backups {
            do {
                let report = try context.manager.verify(backup.filename)
                results.append(report.json)
                if !options.json { print(Self.line(report)) }
            } catch let error as BackupError where context.manager.wasRemoved(backup.filename) {
                // Deleted (by retention or by hand) since the listing: nothing is wrong with what is left.
                gone += 1
                let detail = "deleted while verify --all ran, not checked"
                results.append(.object([("filename", .string(backup.filename)), ("verified", .bool(false)),
                                        ("gone", .bool(true)), ("detail", .string(detail))]))
                if !options.json { print("➖ \(backup.filename): \(detail) (\(error.code))") }
            } catch let error as BackupError {
                failures += 1
                results.append(.object([("filename", .string(backup.filename)), ("verified", .bool(false)),
                                        ("error", .string(error.code)), ("detail", .string(error.description))]))
                if !options.json { print("❌ \(backup.filename): \(error.description)") }
            }
        }
        for damaged in listing.damaged {
            failures += 1
            results.append(.object([("filename", .string(damaged.filename)), ("verified", .bool(false)),
                                    ("error", .string("verification_failed")), ("detail", .string(damaged.error))]))
            if !options.json { print("❌ \(damaged.filename): \(damaged.error)") }
        }
        for orphan in listing.orphans {
            Output.warn("\(orphan) has no metadata file: an incomplete dump, not a backup (not verified, not restorable)")
        }
        if options.json {
            Output.json(.object([("success", .bool(failures == 0)), ("checked", .int(Int64(results.count - gone))),
                                 ("failed", .int(Int64(failures))), ("gone", .int(Int64(gone))),
                                 ("results", .array(results))]))
        } else {
            let goneNote = gone > 0 ? " (\(gone) deleted meanwhile)" : ""
            print("\(results.count - gone - failures) of \(results.count - gone) backups verified\(goneNote)")
        }
        if failures > 0 { throw CLIFailure(exitCode: BackupError.verificationFailed(name: "", reason: "").exitCode) }
    }

    static func line(_ report: VerificationReport) -> String {
        let checks = report.checksumChecked ? "sha256, gzip CRC, dump trailer" : "gzip CRC and dump trailer only (no checksum recorded)"
        return "✅ \(report.filename): OK (\(checks))"
    }
}
