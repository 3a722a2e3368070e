// swift-tools-version:6.0
import PackageDescription

// Linux only (glibc, /proc, OFD locks, libfcgi; systemd units in deploy/), so no `platforms:` line: SwiftPM's
// `platforms` only sets minimum versions of Apple platforms, and a `.macOS` entry would claim a port there is none.
let package = Package(
    name: "pgbackup",
    products: [
        .executable(name: "pgbackup", targets: ["pgbackup"]),
        .executable(name: "pgbackup-fcgi", targets: ["pgbackup-fcgi"]),
        .executable(name: "pgbackup-scheduler", targets: ["pgbackup-scheduler"]),
        .library(name: "BackupCore", targets: ["BackupCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CDeflate", pkgConfig: "libdeflate", providers: [.apt(["libdeflate-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CSystem"),
        .systemLibrary(name: "CFastCGI", pkgConfig: "fcgi", providers: [.apt(["libfcgi-dev"])]),
        .target(
            name: "BackupCore",
            dependencies: [
                "CZlib",
                "CDeflate",
                "CZstd",
                "CSystem",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "FastCGI", dependencies: ["CFastCGI"]),
        // The exit codes the three executables share, one table mapped from BackupError.
        .target(name: "CommandLineSupport", dependencies: ["BackupCore"]),
        .target(
            name: "BackupAPI",
            dependencies: ["BackupCore", .product(name: "Logging", package: "swift-log")]
        ),
        .executableTarget(
            name: "pgbackup",
            dependencies: [
                "BackupCore", "CommandLineSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "pgbackup-fcgi",
            dependencies: [
                "BackupCore", "BackupAPI", "CommandLineSupport", "FastCGI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "pgbackup-scheduler",
            dependencies: ["BackupCore", "CommandLineSupport", .product(name: "Logging", package: "swift-log")]
        ),
        // What every test target shares: starting processes, free ports, temp directories, where the binaries
        // and the repository are, a throwaway PostgreSQL cluster. Not in any product.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        // Test-only responder over the FastCGI module, run behind a real nginx by FastCGITests and IntegrationTests.
        // Not a product: scripts build the products with `--product`, so a release build leaves it out.
        .executableTarget(name: "fcgi-echo", dependencies: ["FastCGI"], path: "Tests/Fixtures/fcgi-echo"),
        .testTarget(name: "FastCGITests", dependencies: ["FastCGI", "fcgi-echo", "TestSupport"]),
        .testTarget(name: "BackupCoreTests", dependencies: ["BackupCore", "TestSupport"]),
        .testTarget(name: "CommandLineSupportTests", dependencies: ["CommandLineSupport", "BackupCore"]),
        .testTarget(
            name: "BackupAPITests",
            dependencies: ["BackupAPI", "BackupCore", "TestSupport", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "IntegrationTests",
            // Depending on the executables makes `swift test` build them; the tests run them as a user would.
            dependencies: ["pgbackup", "pgbackup-fcgi", "pgbackup-scheduler", "fcgi-echo", "TestSupport"]
        ),
        // deploy/: systemd units, install.sh and quickstart.sh, checked with the real tools.
        .testTarget(name: "DeployTests", dependencies: ["TestSupport"]),
    ]
)
