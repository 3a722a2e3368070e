import Foundation

/// A psql reading SQL on its stdin — a restore's one transaction or a load's ordinary ones — with its input
/// (`PsqlInput`) and the marker that says it ran everything sent so far (`PsqlReadiness`). The preamble is queued
/// first. Until `finish()`, `stop()` ends it: SIGTERM, input closed (for a restore: without COMMIT, so the server
/// rolls back), reaped; callers `defer` it so no error path leaves a psql behind.
final class PsqlSession {
    let child: ChildProcess
    let input: PsqlInput
    let readiness: PsqlReadiness
    private var finished = false

    private init(child: ChildProcess, input: PsqlInput, readiness: PsqlReadiness) {
        self.child = child
        self.input = input
        self.readiness = readiness
    }

    /// Starts `command` (a `PostgresTools.restoreCommand`) with its input pipe enlarged and `preamble` queued.
    static func start(_ command: Command, preamble: String) throws -> PsqlSession {
        let child = try BackupError.mapping { try ChildProcess(command, stdin: .pipe, stdout: .pipe) }
        guard let stdin = child.stdin, let output = child.takeStdout() else {
            child.signal(SIGTERM)
            child.closeStdin()
            child.wait()
            throw BackupError.restoreFailed("no pipe to psql")
        }
        ChildProcess.enlargePipe(stdin)
        let session = PsqlSession(child: child, input: PsqlInput(fd: stdin), readiness: PsqlReadiness(fd: output))
        session.input.send(Array(preamble.utf8))
        return session
    }

    /// The settings a restore's or a load's session starts with: its `lock_timeout` line (which also replaces the
    /// dump's own `SET lock_timeout = 0;`), and `client_connection_check_interval` on 14+ so the server notices a
    /// psql that is gone even while it waits on a lock.
    static func settings(_ tools: PostgresTools, serverVersion: Int) -> (lockTimeoutLine: String, preamble: String) {
        let lockTimeout = "SET lock_timeout = '\(tools.lockWaitTimeoutSeconds)s';"
        var preamble = "\(lockTimeout)\n"
        if serverVersion >= 140_000 { preamble += "SET client_connection_check_interval = '2s';\n" }
        return (lockTimeout, preamble)
    }

    /// Closes psql's input and waits for it to exit on its own: its status. After this `stop()` does nothing.
    func finish() -> Int32 {
        child.closeStdin()
        finished = true
        return child.wait()
    }

    /// Ends psql unless it finished.
    func stop() {
        guard !finished else { return }
        finished = true
        child.signal(SIGTERM)
        child.closeStdin()
        child.wait()
    }
}
