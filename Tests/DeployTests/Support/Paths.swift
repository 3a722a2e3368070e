import Foundation
import TestSupport

enum Paths {
    /// The repository.
    static var repository: String { SourceTree.root.path }

    static var deploy: String { repository + "/deploy" }

    /// Where the built executables are: PGBACKUP_BIN_DIR, else beside the running test binary
    /// (`swift test` builds them there because IntegrationTests depends on them).
    static var binaries: String { Binaries.directory.path }

    static let executables = ["pgbackup", "pgbackup-fcgi", "pgbackup-scheduler"]
    static let services = ["pgbackup-fcgi.service", "pgbackup-scheduler.service"]
    static let units = ["pgbackup-fcgi.socket", "pgbackup-fcgi.service", "pgbackup-scheduler.service", "pgbackup-scheduler.timer",
                        "pgbackup-failure@.service"]
}

enum FileFacts {
    /// Permission bits of a path (not following a final symlink).
    static func mode(_ path: String) throws -> Int {
        var info = stat()
        guard lstat(path, &info) == 0 else { throw POSIXError(.init(rawValue: errno) ?? .ENOENT) }
        return Int(info.st_mode & 0o7777)
    }

    static func isSymlink(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    static func text(_ path: String) throws -> String {
        try String(contentsOfFile: path, encoding: .utf8)
    }

    static func data(_ path: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: path))
    }
}
