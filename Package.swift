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
        .target(
            name: "BackupAPI",
            dependencies: ["BackupCore", .product(name: "Logging", package: "swift-log")]
        ),
        .executableTarget(
            name: "pgbackup",
            dependencies: [
                "BackupCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "pgbackup-fcgi",
            dependencies: [
                "BackupCore", "BackupAPI", "FastCGI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "pgbackup-scheduler",
            dependencies: ["BackupCore", .product(name: "Logging", package: "swift-log")]
        ),
        // Test-only responder over the FastCGI module; FastCGITests run it behind a real nginx.
        .executableTarget(name: "fcgi-echo", dependencies: ["FastCGI"]),
        .testTarget(name: "FastCGITests", dependencies: ["FastCGI", "fcgi-echo"]),
        .testTarget(name: "BackupCoreTests", dependencies: ["BackupCore"]),
        .testTarget(
            name: "BackupAPITests",
            dependencies: ["BackupAPI", "BackupCore", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "IntegrationTests",
            // Depending on the executables makes `swift test` build them; the tests run them as a user would.
            dependencies: ["pgbackup", "pgbackup-fcgi", "pgbackup-scheduler"]
        ),
        // deploy/: systemd units, install.sh and quickstart.sh, checked with the real tools.
        .testTarget(name: "DeployTests"),
    ]
)
