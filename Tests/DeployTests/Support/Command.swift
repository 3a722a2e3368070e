import Foundation
import TestSupport

/// Runs programs the way a person at a terminal would, minus the terminal: argv (no shell), the test's own
/// environment with the changes a test asks for, stdin from a string or /dev/null, stdout and stderr to files
/// (a daemon the command leaves running, as quickstart.sh leaves three, must hold no pipe of ours).
enum Command {
    /// A program on the test's PATH, or in /usr/sbin or /sbin; a name with a slash is taken as it is.
    static func which(_ name: String) throws -> String {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin") + ":/usr/sbin:/sbin"
        guard let found = ProcessRunner.which(name, searching: path) else { throw HarnessError.missingTool(name) }
        return found
    }

    /// `environment` entries are added to (or, with a nil value, removed from) the test's own.
    @discardableResult
    static func run(
        _ program: String,
        _ arguments: [String] = [],
        environment: [String: String?] = [:],
        stdin: String? = nil,
        timeout: Double = 120
    ) throws -> ProcessResult {
        let scratch = try TemporaryDirectory(prefix: "cmd")
        defer { scratch.remove() }
        let stdinFile = try stdin.map { try scratch.write("stdin", $0) }
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        let child = try LoggedProcess(try which(program), arguments, environment: env, stdinFile: stdinFile,
                                      in: scratch.url, name: "command")
        let result = child.finish(timeout: timeout)
        guard !result.timedOut else {
            throw HarnessError.setup("\(([program] + arguments).joined(separator: " ")) did not finish within \(Int(timeout)) seconds")
        }
        return result
    }
}
