import Foundation

/// A child whose stdout and stderr go to files (never pipes: nothing can fill up and block it, and a daemon it
/// leaves behind holds no descriptor of ours). The files can be read while it runs, e.g. to wait for
/// "listening on" in its log.
package final class LoggedProcess: @unchecked Sendable {
    package let executable: String
    package let pid: pid_t
    package let stdoutURL: URL
    package let stderrURL: URL
    private let exit: ChildExit

    /// - Parameters:
    ///   - environment: exactly the child's environment; nil passes the test process's own on.
    ///   - stdinFile: a file to read stdin from; /dev/null when nil.
    ///   - directory, name: the output goes to `name.stdout` and `name.stderr` in `directory`.
    package init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                 stdinFile: String? = nil, in directory: URL, name: String) throws {
        self.executable = executable
        stdoutURL = directory.appendingPathComponent("\(name).stdout")
        stderrURL = directory.appendingPathComponent("\(name).stderr")
        pid = try ProcessSpawn.start(
            executable, arguments, environment: environment ?? ProcessInfo.processInfo.environment,
            stdin: stdinFile.map { .file($0) } ?? .devNull, stdout: .file(stdoutURL.path), stderr: .file(stderrURL.path))
        exit = ChildExit(pid: pid)
    }

    package var isRunning: Bool { exit.isRunning }
    package var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }
    package var stdout: Data { (try? Data(contentsOf: stdoutURL)) ?? Data() }

    package func signal(_ number: Int32) { exit.send(number) }

    /// Waits for the exit; the status (128 + signal number when a signal ended it), or nil if it is still running
    /// after `timeout` seconds.
    @discardableResult
    package func wait(timeout: TimeInterval) -> Int32? {
        exit.wait(seconds: timeout) ? exit.status : nil
    }

    /// Waits for the exit and returns what the child wrote; after `timeout` seconds it is killed and the result
    /// says so.
    package func finish(timeout: TimeInterval) -> ProcessResult {
        let killed = wait(timeout: timeout) == nil
        if killed {
            signal(SIGKILL)
            exit.wait(seconds: 10)
        }
        return ProcessResult(
            status: exit.status ?? -1, signal: exit.signal, stdout: stdout,
            stderr: (try? Data(contentsOf: stderrURL)) ?? Data(), timedOut: killed)
    }

    /// Like `finish`, but a child still running after `timeout` seconds is a harness error (after it is killed).
    package func result(timeout: TimeInterval) throws -> ProcessResult {
        let result = finish(timeout: timeout)
        guard !result.timedOut else { throw HarnessError.setup("\(executable) did not finish in \(timeout) s") }
        return result
    }

    /// Terminates (then kills) the process if it is still running.
    package func stop() {
        guard isRunning else { return }
        signal(SIGTERM)
        if wait(timeout: 10) == nil {
            signal(SIGKILL)
            wait(timeout: 5)
        }
    }
}
