import Foundation
import TestSupport

/// The programs these tests run that are not system tools.
enum Paths {
    /// The test-only responder (Tests/Fixtures/fcgi-echo).
    static var echo: String { get throws { try Binaries.fixture("fcgi-echo") } }

    static var localNginx: String { SourceTree.root.appendingPathComponent("nginx/local.sh").path }
}

var runningAsRoot: Bool { geteuid() == 0 }

/// The bytes fcgi-echo's stream endpoint sends: byte i is i % 251.
func streamPattern(count: Int) -> [UInt8] {
    (0..<count).map { UInt8($0 % 251) }
}

/// fcgi-echo's body checksum (FNV-1a, 64 bit, lower-case hex).
func fnv1a(_ bytes: [UInt8]) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes {
        hash ^= UInt64(byte)
        hash = hash &* 0x0000_0100_0000_01B3
    }
    return String(hash, radix: 16)
}
