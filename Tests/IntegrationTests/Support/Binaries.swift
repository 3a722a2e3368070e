import Foundation

/// Where the product's executables are: next to the running test executable (SwiftPM puts them in the
/// same build directory), unless `PGBACKUP_BIN_DIR` says otherwise.
enum Binaries {
    static func directory() throws -> URL {
        if let override = ProcessInfo.processInfo.environment["PGBACKUP_BIN_DIR"], !override.isEmpty {
            return URL(fileURLWithPath: override, isDirectory: true)
        }
        let exe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        return URL(fileURLWithPath: exe).deletingLastPathComponent()
    }

    /// The absolute path of one product executable; a missing binary is a setup error, never a skip.
    static func path(_ name: String) throws -> String {
        let url = try directory().appendingPathComponent(name)
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw HarnessError.setup("\(name) not found at \(url.path); build it or set PGBACKUP_BIN_DIR")
        }
        return url.path
    }

    static func pgbackup() throws -> String { try path("pgbackup") }
}
