import Crypto
import Foundation

/// Observes: the SHA-256 of every byte that passes, as the sidecar records it (lower-case hex).
final class SHA256Stage: ByteStage {
    private let next: ByteStage
    private var hasher = SHA256()
    /// The digest, once `finish()` was called.
    private(set) var hexDigest: String?

    init(next: ByteStage) { self.next = next }

    func write(_ chunk: UnsafeRawBufferPointer) throws {
        hasher.update(bufferPointer: chunk)
        try next.write(chunk)
    }

    func finish() throws {
        hexDigest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        try next.finish()
    }
}
