import ArgumentParser
import BackupCore
import CommandLineSupport

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a backup's SHA-256, gzip CRCs or zstd frame checksum, and dump trailer (exit 4 when one fails).")

    @Argument(help: "The backup's file name.")
    var name: String?

    @Flag(name: .long, help: "Verify every backup.")
    var all = false

    @Option(name: .long, help: "The age identity (private key) file, mode 0600, to check encrypted backups' content too (instead of BACKUP_AGE_IDENTITY_FILE); without one, their stored bytes and age header are checked.")
    var identity: String?
    @Flag(name: .long, help: "Verify the copy on BACKUP_REMOTE (streamed, not kept) instead of the local one.")
    var remote = false

    @OptionGroup var options: CommonOptions

    func validate() throws {
        guard (name == nil) != !all else { throw ValidationError("give either a backup name or --all") }
        guard !(remote && all) else { throw ValidationError("--remote checks one backup: give its name") }
    }

    func run() throws {
        let context = try Context(options, identity: identity)
        if let name {
            let report = try context.perform {
                remote ? try context.manager.verifyRemote(name, progress: context.progress)
                    : try context.manager.verify(name, progress: context.progress)
            }
            if context.progress != nil { Output.status("\r\u{1B}[K") }
            if options.json { Output.json(report.json) } else { print(Self.line(report)) }
            return
        }
        let json = options.json
        let report = try context.perform {
            try context.manager.verifyAll(each: { entry in if !json { print(Self.line(entry)) } })
        }
        for orphan in report.orphans {
            Output.warn("\(orphan) has no metadata file: an incomplete dump, not a backup (not verified, not restorable)")
        }
        if options.json {
            Output.json(report.json)
        } else {
            let goneNote = report.gone > 0 ? " (\(report.gone) deleted meanwhile)" : ""
            print("\(report.checked - report.failed) of \(report.checked) backups verified\(goneNote)")
        }
        if !report.allVerified {
            throw CLIFailure(exitCode: BackupError.verificationFailed(name: "", reason: "").exitCode)
        }
    }

    static func line(_ report: VerificationReport) -> String {
        if !report.contentChecked {
            return "✅ \(report.filename): stored bytes OK (sha256, age header); content NOT checked: encrypted, and "
                + "no identity was given (BACKUP_AGE_IDENTITY_FILE or --identity)"
        }
        let codec = report.encrypted ? "age, \(report.codec.integrityCheck)" : report.codec.integrityCheck
        let checks = report.checksumChecked ? "sha256, \(codec), dump trailer" : "\(codec) and dump trailer only (no checksum recorded)"
        return "✅ \(report.filename): OK (\(checks))"
    }

    static func line(_ entry: VerifyAllReport.Entry) -> String {
        switch entry.outcome {
        case let .verified(report): line(report)
        case let .gone(code): "➖ \(entry.filename): \(VerifyAllReport.Entry.goneDetail) (\(code))"
        case let .failed(_, detail): "❌ \(entry.filename): \(detail)"
        }
    }
}
