import Foundation

enum Paths {
    /// The repository: three levels above this file (Tests/DeployTests/Support/Paths.swift).
    static var repository: String {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().path
    }

    static var deploy: String { repository + "/deploy" }

    /// Where the built executables are: PGBACKUP_BIN_DIR, else beside the running test binary
    /// (`swift test` builds them there because IntegrationTests depends on them).
    static var binaries: String {
        if let override = ProcessInfo.processInfo.environment["PGBACKUP_BIN_DIR"], !override.isEmpty {
            return override
        }
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: me).deletingLastPathComponent().path
    }

    static let executables = ["pgbackup", "pgbackup-fcgi", "pgbackup-scheduler"]
    static let services = ["pgbackup-fcgi.service", "pgbackup-scheduler.service"]
    static let units = ["pgbackup-fcgi.socket", "pgbackup-fcgi.service", "pgbackup-scheduler.service", "pgbackup-scheduler.timer"]
}

/// A fresh directory under /tmp (short paths: unix socket names are limited to 107 bytes).
struct TemporaryDirectory {
    let path: String

    init(prefix: String) throws {
        var template = Array("/tmp/pgbackup-\(prefix)-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer -> Bool in
            guard let base = buffer.baseAddress else { return false }
            return mkdtemp(base) != nil
        }
        guard made else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
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
