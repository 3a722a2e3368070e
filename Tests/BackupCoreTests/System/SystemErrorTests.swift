import Foundation
import TestSupport
import Testing

@testable import BackupCore
import TestSupport

/// `FileSystem` and `ChildProcess` throw plain `SystemError`s; `BackupError(_:)` says the same in the domain's terms.
@Suite("SystemError")
struct SystemErrorTests {
    @Test("a file call maps to io with strerror's text; starting a program to launchFailed")
    func mapping() {
        #expect(BackupError(SystemError(.open, path: "/x", code: ENOENT)) == .io(path: "/x", message: "No such file or directory"))
        #expect(BackupError(SystemError(.write, path: "/x", code: ENOSPC)) == .io(path: "/x", message: "No space left on device"))
        #expect(BackupError(SystemError(.makeDirectory, path: "/x", problem: "exists and is not a directory"))
            == .io(path: "/x", message: "exists and is not a directory"))
        #expect(BackupError(SystemError(.spawn, path: "pg_dump", code: EACCES)) == .launchFailed(program: "pg_dump", message: "Permission denied"))
        #expect(BackupError(SystemError(.findProgram, path: "psql", problem: "not found in PATH"))
            == .launchFailed(program: "psql", message: "not found in PATH"))
        #expect(SystemError(.rename, path: "/x", code: EXDEV).description == "rename /x: Invalid cross-device link")
    }

    @Test("mapping passes other errors through unchanged")
    func otherErrorsPass() {
        struct Other: Error {}
        #expect(throws: Other.self) { try BackupError.mapping { throw Other() } }
        #expect(throws: BackupError.notFound("x")) { try BackupError.mapping { throw BackupError.notFound("x") } }
        #expect(throws: BackupError.io(path: "/x", message: "Is a directory")) {
            try BackupError.mapping { throw SystemError(.read, path: "/x", code: EISDIR) }
        }
    }

    @Test("FileSystem throws SystemError, not BackupError")
    func fileSystemThrowsSystemError() throws {
        let dir = try TemporaryDirectory()
        let file = try dir.write("plain", "x")
        #expect(throws: SystemError(.makeDirectory, path: file, problem: "exists and is not a directory")) {
            try FileSystem.makeDirectory(file)
        }
        #expect(throws: SystemError(.open, path: dir.file("missing"), code: ENOENT)) {
            _ = try FileSystem.openForReading(dir.file("missing"))
        }
        #expect(throws: SystemError(.read, path: dir.file("big"), problem: "file is unexpectedly large")) {
            try dir.write("big", [UInt8](repeating: 0, count: 100))
            _ = try FileSystem.readSmallFile(dir.file("big"), limit: 10)
        }
    }

    @Test("ChildProcess throws SystemError for a program that is not there")
    func childProcessThrowsSystemError() {
        let command = Command(executable: "pgbackup-no-such-program", arguments: [], environment: ["PATH": "/nonexistent"])
        #expect(throws: SystemError(.findProgram, path: "pgbackup-no-such-program", problem: "not found in PATH")) {
            _ = try ChildProcess(command)
        }
        #expect(throws: BackupError.launchFailed(program: "pgbackup-no-such-program", message: "not found in PATH")) {
            _ = try BackupError.mapping { try ChildProcess(command) }
        }
    }
}
