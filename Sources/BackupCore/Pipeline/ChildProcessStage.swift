import Foundation

/// A child process in the middle of a pipeline (age): what the stage is handed goes to the child's stdin, and a
/// drain thread reads the child's stdout into `next`, so neither pipe can fill up and stall the other side.
///
/// `next` is written from the drain thread only, and finished from `finish()` once that thread has ended, so the
/// stages after this one still see one caller at a time. A failure of `next` is kept and thrown, as it was, from
/// the next `write` or from `finish`; the child's own failure (a non-zero exit, or a closed stdin) becomes
/// `failure(how it ended, its stderr)`. A stage dropped before `finish` kills its child and reaps it.
final class ChildProcessStage: ByteStage {
    private let child: ChildProcess
    private let downstream: Downstream
    private let failure: (String, String) -> Error
    private var finished = false
    private var reaped = false
    /// The error a failed `write` threw, thrown again by any later call.
    private var stopped: Error?

    /// - Parameter failure: the error for a child that failed: "exited with status 1" (see
    ///   `ChildProcess.describe`) and what it wrote to stderr, trimmed.
    init(_ command: Command, name: String, next: ByteStage, failure: @escaping (String, String) -> Error) throws {
        let child = try ChildProcess(command, stdin: .pipe, stdout: .pipe)
        guard let stdin = child.stdin, let stdout = child.takeStdout() else {
            child.signal(SIGKILL)
            child.wait()
            throw failure("has no pipes", "")
        }
        ChildProcess.enlargePipe(stdin)
        ChildProcess.enlargePipe(stdout)
        self.child = child
        self.failure = failure
        downstream = Downstream(next: next)
        DescriptorDrain.start(fd: stdout, threadName: "pgbackup-\(name)", bufferSize: 256 * 1024,
                              chunk: { [downstream] bytes in downstream.write(bytes) },
                              ended: { [downstream] in downstream.end() })
    }

    deinit { reap(kill: true) }

    /// Kills the child (unless it was finished) and waits until the drain thread is done with `next`: call it before
    /// whatever `next` writes to goes away (a failed operation's partial file, psql's stdin). Idempotent.
    func cancel() { reap(kill: true) }

    func write(_ chunk: UnsafeRawBufferPointer) throws {
        precondition(!finished, "write after finish")
        if let stopped { throw stopped }
        if let error = downstream.error { throw stop(error) }
        guard let stdin = child.stdin else { return }
        do {
            try FileSystem.writeAll(stdin, chunk, path: "stdin")
        } catch {
            // The child closed its stdin: it exited, and says why.
            throw stop(nil)
        }
    }

    /// Closes the child's stdin, waits for its output to be read and for it to exit, then finishes `next`.
    func finish() throws {
        precondition(!finished, "finish called twice")
        if let stopped { throw stopped }
        finished = true
        child.closeStdin()
        downstream.waitForEnd()
        let status = child.wait()
        reaped = true
        if let error = downstream.error { throw error }
        guard status == 0 else { throw childFailure(status) }
        try downstream.next.finish()
    }

    /// Ends the child after a failure on either side and returns the error to throw: `next`'s, else the child's.
    private func stop(_ downstreamError: Error?) -> Error {
        reap(kill: downstreamError != nil)
        let error = downstreamError ?? downstream.error ?? childFailure(child.wait())
        stopped = error
        return error
    }

    private func reap(kill: Bool) {
        guard !reaped else { return }
        reaped = true
        if kill { child.signal(SIGKILL) }
        child.closeStdin()
        downstream.waitForEnd()
        child.wait()
    }

    private func childFailure(_ status: Int32) -> Error {
        failure(ChildProcess.describe(status), child.stderrText().trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// What the drain thread shares with the stage: `next`, its first error, and whether the output has ended.
    private final class Downstream: @unchecked Sendable {
        let next: ByteStage
        private let lock = NSCondition()
        private var failed: Error?
        private var ended = false

        init(next: ByteStage) { self.next = next }

        var error: Error? { lock.withLock { failed } }

        /// On the drain thread. After a failure the rest is read and dropped, so the child is never blocked.
        func write(_ bytes: ArraySlice<UInt8>) {
            guard error == nil else { return }
            do {
                try bytes.withUnsafeBytes { try next.write($0) }
            } catch {
                lock.withLock { failed = error }
            }
        }

        func end() {
            lock.lock()
            ended = true
            lock.broadcast()
            lock.unlock()
        }

        func waitForEnd() {
            lock.lock()
            while !ended { lock.wait() }
            lock.unlock()
        }
    }
}
