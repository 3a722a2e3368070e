import Foundation

/// A system call that failed, as the kernel reported it: what was being done, to which path (or program), and
/// errno. `FileSystem` and `ChildProcess` throw it and know nothing of backups; the layer above says what the
/// failure means to its caller (`BackupError.init(_:)`).
struct SystemError: Error, Equatable, Sendable, CustomStringConvertible {
    enum Operation: String, Sendable {
        case open, read, seek, write, sync, rename, remove, makeDirectory, list
        /// Starting a program: `posix_spawn`, the pipes it gets, and finding it in PATH.
        case spawn, pipe, findProgram

        var startsProgram: Bool { self == .spawn || self == .pipe || self == .findProgram }
    }

    let operation: Operation
    /// The file, or the program being started.
    let path: String
    /// errno; 0 when no call failed but what was found cannot be used (then `problem` says why).
    let code: Int32
    let problem: String?

    init(_ operation: Operation, path: String, code: Int32 = errno) {
        self.operation = operation
        self.path = path
        self.code = code
        problem = nil
    }

    init(_ operation: Operation, path: String, problem: String) {
        self.operation = operation
        self.path = path
        code = 0
        self.problem = problem
    }

    /// strerror's text, or the problem found.
    var message: String { problem ?? Errno.message(code) }

    var description: String { "\(operation.rawValue) \(path): \(message)" }
}
