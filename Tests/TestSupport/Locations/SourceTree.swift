import Foundation

/// The repository the tests run from (deploy/, nginx/local.sh, Benchmarks/, docs/openapi.yaml): found from this
/// source file, or from PGBACKUP_SOURCE_DIR (PGBACKUP_REPO_DIR is read too, the name the fault tests used).
package enum SourceTree {
    package static var root: URL {
        let environment = ProcessInfo.processInfo.environment
        for name in ["PGBACKUP_SOURCE_DIR", "PGBACKUP_REPO_DIR"] {
            if let override = environment[name], !override.isEmpty { return URL(fileURLWithPath: override, isDirectory: true) }
        }
        // Tests/TestSupport/Locations/SourceTree.swift → the repository root.
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
    }

    /// A file of the repository, which must exist.
    package static func file(_ relative: String) throws -> URL {
        let url = root.appendingPathComponent(relative)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw HarnessError.setup("\(relative) not found under \(root.path); set PGBACKUP_SOURCE_DIR")
        }
        return url
    }
}
