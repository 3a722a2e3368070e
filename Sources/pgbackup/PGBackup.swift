import ArgumentParser
import BackupCore
import Foundation

@main
struct PGBackup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pgbackup",
        abstract: "Make, list, verify, restore, drill, copy off-site and expire compressed PostgreSQL backups.",
        discussion: "Settings come from the environment and the env file (see the README). Exit codes: 0 ok, 1 failed, 2 bad usage or input, 3 another operation is running, 4 verification or drill failed.",
        subcommands: [Create.self, List.self, Verify.self, Restore.self, Rollback.self, Drill.self, Delete.self, Cleanup.self,
                      Status.self, Push.self, Sync.self])

    static func main() {
        signal(SIGPIPE, SIG_IGN)
        // Before anything else starts a thread: SIGTERM/SIGINT/SIGHUP are taken by one watcher (see Interruption).
        Interruption.shared.install()
        // Swift repairs invalid UTF-8 in arguments silently; refuse it instead of storing a changed value.
        for index in 1..<Int(CommandLine.argc) {
            if let raw = CommandLine.unsafeArgv[index], String(validatingCString: raw) == nil {
                FileHandle.standardError.write(Data("❌ Error: argument \(index) is not valid UTF-8\n".utf8))
                Foundation.exit(2)
            }
        }
        // No arguments at all is a usage error (a script that lost its arguments must not look successful).
        if CommandLine.argc == 1 {
            FileHandle.standardError.write(Data((helpMessage() + "\n").utf8))
            Foundation.exit(2)
        }
        do {
            var command = try parseAsRoot(hoistingCommonOptions(Array(CommandLine.arguments.dropFirst())))
            try command.run()
        } catch let error as CLIFailure {
            Foundation.exit(error.exitCode)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            // Usage errors are exit 2, as documented (ArgumentParser would use 64).
            Foundation.exit(code == .validationFailure || code.rawValue == 64 ? 2 : code.rawValue)
        }
    }

    /// `pgbackup --env-file F status` reads as documented: options every subcommand takes may also come before
    /// the subcommand's name, and are moved after it.
    static func hoistingCommonOptions(_ arguments: [String]) -> [String] {
        let names = Set(configuration.subcommands.map { $0._commandName })
        guard let index = arguments.firstIndex(where: { names.contains($0) }), index > 0 else { return arguments }
        var before = Array(arguments[..<index])
        var moved: [String] = []
        var kept: [String] = []
        while !before.isEmpty {
            let token = before.removeFirst()
            if token == "--env-file", !before.isEmpty {
                moved += [token, before.removeFirst()]
            } else if token.hasPrefix("--env-file=") || token == "--json" || token == "--verbose" {
                moved.append(token)
            } else {
                kept.append(token)
            }
        }
        return kept + [arguments[index]] + moved + arguments[(index + 1)...]
    }
}
