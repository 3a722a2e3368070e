import Foundation

/// What a finished child process left behind.
struct ProcessResult: Sendable, CustomStringConvertible {
    /// The exit code, or 128 + the signal number when a signal ended the child (as a shell reports it).
    var status: Int32
    /// The signal that ended the child, if one did.
    var signal: Int32?
    var stdout: Data
    var stderr: Data
    var timedOut: Bool

    var out: String { String(decoding: stdout, as: UTF8.self) }
    var err: String { String(decoding: stderr, as: UTF8.self) }
    /// stdout and stderr together, for assertions that do not care which stream a message went to.
    var combined: String { out + "\n" + err }

    var description: String {
        let tail = { (text: String) in text.count > 4_000 ? "…" + String(text.suffix(4_000)) : text }
        return "exit \(status)\(timedOut ? " (killed after timeout)" : "")\n--- stdout ---\n\(tail(out))\n--- stderr ---\n\(tail(err))"
    }
}

enum ProcessRunnerError: Error, CustomStringConvertible {
    case cannotStart(String, Int32)

    var description: String {
        switch self {
        case .cannotStart(let path, let code): "cannot start \(path): \(String(cString: strerror(code)))"
        }
    }
}

enum HarnessError: Error, CustomStringConvertible {
    case missingTool(String)
    case commandFailed(String, ProcessResult)
    case setup(String)

    var description: String {
        switch self {
        case .missingTool(let name): "\(name) is not installed or not on PATH"
        case .commandFailed(let what, let result): "\(what) failed: \(result)"
        case .setup(let message): message
        }
    }
}
