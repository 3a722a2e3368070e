import Foundation

/// What a finished child process left behind.
package struct ProcessResult: Sendable, CustomStringConvertible {
    /// The exit code, or 128 + the signal number when a signal ended the child (as a shell reports it).
    package var status: Int32
    /// The signal that ended the child, if one did.
    package var signal: Int32?
    package var stdout: Data
    package var stderr: Data
    package var timedOut: Bool

    package init(status: Int32, signal: Int32?, stdout: Data, stderr: Data, timedOut: Bool) {
        self.status = status
        self.signal = signal
        self.stdout = stdout
        self.stderr = stderr
        self.timedOut = timedOut
    }

    package var out: String { String(decoding: stdout, as: UTF8.self) }
    package var err: String { String(decoding: stderr, as: UTF8.self) }
    /// stdout and stderr together, for assertions that do not care which stream a message went to.
    package var combined: String { out + "\n" + err }

    package var description: String {
        let tail = { (text: String) in text.count > 4_000 ? "…" + String(text.suffix(4_000)) : text }
        return "exit \(status)\(timedOut ? " (killed after timeout)" : "")\n--- stdout ---\n\(tail(out))\n--- stderr ---\n\(tail(err))"
    }
}
