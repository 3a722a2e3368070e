import ArgumentParser
import BackupCore
import CommandLineSupport
import Foundation
import Logging

/// Options every subcommand takes.
struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: "Read settings from this env file (KEY=VALUE lines, never executed).")
    var envFile: String?

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    @Flag(name: .long, help: "Log progress details to stderr.")
    var verbose = false
}

/// An error that was already reported to the user; carries only the exit code.
struct CLIFailure: Error {
    let exitCode: Int32
}

/// What a subcommand needs: the manager, and how to print.
struct Context {
    let manager: BackupManager
    let options: CommonOptions

    /// - Parameter identity: `--identity FILE`, which stands in for BACKUP_AGE_IDENTITY_FILE (checked the same way).
    init(_ options: CommonOptions, identity: String? = nil) throws {
        self.options = options
        let environment = ProcessInfo.processInfo.environment
        // Failures are printed once, as the ❌ line; the core's log lines add detail with --verbose.
        let level: Logger.Level = options.verbose ? .info : .error
        let logger = Logger(label: "pgbackup") { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        do {
            var (configuration, warnings) = try Configuration.load(environment: environment, envFile: options.envFile)
            for warning in warnings { Output.warn(warning) }
            if let identity { configuration.ageIdentity = try AgeIdentity.check(path: identity, setting: "--identity") }
            Self.warnIfRootInServiceDirectory(configuration.backupDirectory)
            manager = BackupManager(configuration: configuration, logger: logger, environment: environment)
        } catch let error as BackupError {
            Output.fail(error, json: options.json)
            throw CLIFailure(exitCode: error.exitCode)
        }
    }

    /// Root running the CLI in a directory the service user owns would leave root-owned 0600 backups that the
    /// services cannot read; say so (it still works).
    static func warnIfRootInServiceDirectory(_ directory: String) {
        var info = stat()
        guard geteuid() == 0, stat(directory, &info) == 0, info.st_uid != 0 else { return }
        Output.warn("running as root in \(directory), which belongs to uid \(info.st_uid): new files will be root's "
            + "and unreadable by the service; run as that user instead (runuser -u pgbackup -- pgbackup …)")
    }

    /// Runs `body`, turning a `BackupError` into its message and exit code.
    func perform<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as BackupError {
            Output.fail(error, json: options.json)
            throw CLIFailure(exitCode: error.exitCode)
        }
    }

    /// Progress on stderr, only when it is a terminal and JSON was not asked for.
    var progress: ProgressHandler? {
        guard isatty(2) == 1, !options.json else { return nil }
        return { progress in
            let mb = Double(progress.bytes) / 1_048_576
            let rate = progress.bytesPerSecond / 1_048_576
            Output.status(String(format: "\r  %@: %.1f MB (%.1f MB/s)   ", progress.phase, mb, rate))
        }
    }

    /// Asks for "yes" on a terminal. Without one, a `yes` line on stdin (`echo yes | pgbackup restore …`, as
    /// scripts of the old tool did) is as explicit as `--yes`; an empty or closed stdin refuses.
    func confirm(_ warning: [String], assumeYes: Bool) throws {
        if assumeYes { return }
        let terminal = isatty(0) == 1
        // Without a terminal the prompt goes to stderr, so stdout (`--json`, a script's capture) holds only the result.
        let say: (String) -> Void = terminal ? { print($0, terminator: "") } : { Output.status($0) }
        say(warning.map { $0 + "\n" }.joined() + "\n   Type 'yes' to continue: ")
        fflush(nil)
        let answer = readLine()?.trimmingCharacters(in: .whitespaces)
        if !terminal { say((answer ?? "") + "\n") }
        if answer == "yes" { return }
        guard terminal || !(answer ?? "").isEmpty else {
            Output.fail(.invalidInput("refusing to continue without confirmation: no terminal to ask on and no 'yes' "
                + "line on stdin; pass --yes"), json: options.json)
            throw CLIFailure(exitCode: 2)
        }
        print("Cancelled.")
        throw CLIFailure(exitCode: 1)
    }
}

/// Printing helpers: results on stdout, messages on stderr.
enum Output {
    static func json(_ value: JSON) { print(value.serialized(pretty: true)) }

    static func warn(_ message: String) { status("⚠️  \(message)\n") }

    static func status(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }

    static func fail(_ error: BackupError, json: Bool) {
        if json {
            Output.json(error.json)
        }
        var text = "❌ Error: \(error.description)\n"
        if let hint = error.hint { text += "   \(hint)\n" }
        status(text)
    }

    static func megabytes(_ bytes: Int64) -> String { String(format: "%.2f MB", Double(bytes) / 1_048_576) }
}
