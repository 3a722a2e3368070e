import Foundation

/// The outcome of one external command: its exit status and everything it wrote.
struct CommandResult: Sendable, CustomStringConvertible {
    let status: Int32
    let stdout: String
    let stderr: String

    var output: String { stdout + stderr }

    var description: String {
        "exit status \(status)\n--- stdout ---\n\(stdout)\n--- stderr ---\n\(stderr)"
    }
}

enum CommandError: Error, CustomStringConvertible {
    case notFound(String)
    case timedOut(String, seconds: Double)

    var description: String {
        switch self {
        case .notFound(let name): "\(name) not found on PATH"
        case .timedOut(let name, let seconds): "\(name) did not finish within \(Int(seconds)) seconds"
        }
    }
}

/// Runs programs the way a person at a terminal would, minus the terminal: argv (no shell),
/// stdin from a string or /dev/null, stdout and stderr to files.
///
/// Not `Foundation.Process`: on Linux it learns of a child's exit through a descriptor the child
/// inherits, and a daemon that the command leaves running (quickstart.sh starts three) inherits it
/// too, so the exit is never noticed. Here the child is spawned and reaped with waitpid.
enum Command {
    static func which(_ name: String) throws -> String {
        if name.contains("/") { return name }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        let directories = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin"]
        for directory in directories {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw CommandError.notFound(name)
    }

    /// `environment` entries are added to (or, with a nil value, removed from) the test's own.
    @discardableResult
    static func run(
        _ program: String,
        _ arguments: [String] = [],
        environment: [String: String?] = [:],
        stdin: String? = nil,
        timeout: Double = 120
    ) throws -> CommandResult {
        let scratch = try TemporaryDirectory(prefix: "cmd")
        defer { scratch.remove() }
        let inPath = scratch.path + "/stdin"
        let outPath = scratch.path + "/stdout"
        let errPath = scratch.path + "/stderr"
        try (stdin ?? "").write(toFile: inPath, atomically: false, encoding: .utf8)

        let executable = try which(program)
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdin == nil ? "/dev/null" : inPath, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)

        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard spawned == 0 else { throw POSIXError(.init(rawValue: spawned) ?? .EIO) }

        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        while true {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid { break }
            if reaped < 0 && errno != EINTR { throw POSIXError(.init(rawValue: errno) ?? .ECHILD) }
            if Date() > deadline {
                kill(pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                throw CommandError.timedOut(([program] + arguments).joined(separator: " "), seconds: timeout)
            }
            usleep(20_000)
        }
        // Exited: its code; killed by a signal: 128 + the signal, as a shell reports it.
        let signal = status & 0x7f
        let code = signal == 0 ? (status >> 8) & 0xff : 128 + signal
        return CommandResult(
            status: code,
            stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        )
    }
}
