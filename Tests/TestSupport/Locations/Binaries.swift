import Foundation

/// Where the executables the tests run are.
package enum Binaries {
    /// The build directory of this test run: SwiftPM puts every executable target there, beside the test binary.
    package static var buildDirectory: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    }

    /// The product executables: PGBACKUP_BIN_DIR when set (e.g. a release build), else the build directory.
    package static var directory: URL {
        if let override = ProcessInfo.processInfo.environment["PGBACKUP_BIN_DIR"], !override.isEmpty {
            return URL(fileURLWithPath: override, isDirectory: true)
        }
        return buildDirectory
    }

    /// The absolute path of one product executable; a missing binary is a setup error, never a skip.
    package static func path(_ name: String) throws -> String {
        try executable(directory.appendingPathComponent(name), hint: "build it or set PGBACKUP_BIN_DIR")
    }

    package static func pgbackup() throws -> String { try path("pgbackup") }

    /// A test-only executable from Tests/Fixtures (fcgi-echo): always from the build directory, since release
    /// builds of the products leave it out.
    package static func fixture(_ name: String) throws -> String {
        try executable(buildDirectory.appendingPathComponent(name), hint: "build the tests (swift build --build-tests)")
    }

    private static func executable(_ url: URL, hint: String) throws -> String {
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw HarnessError.setup("\(url.lastPathComponent) not found at \(url.path); \(hint)")
        }
        return url.path
    }
}
