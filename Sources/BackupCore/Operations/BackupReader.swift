import Crypto
import Foundation

/// Reads a backup end to end: SHA-256 of the file against the sidecar, every gzip CRC, and pg_dump's trailer.
/// `consume` sees the decoded dump as it goes, so restore can feed psql in the same pass.
struct BackupReader {
    let store: BackupStore

    func read(_ metadata: BackupMetadata, progress: ProgressHandler? = nil,
              consume: ((UnsafeRawBufferPointer) throws -> Void)? = nil) throws -> VerificationReport {
        let name = metadata.filename
        let path = store.dumpPath(name)
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw FileSystem.fail(path) }
        defer { close(fd) }
        func failed(_ reason: String) -> BackupError { .verificationFailed(name: name, reason: reason) }

        var hasher = SHA256()
        let decoder = try GzipDecoder()
        var trailer = DumpTrailer()
        var fileBytes: Int64 = 0
        var throttle = ProgressThrottle(phase: consume == nil ? "verify" : "restore", handler: progress)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw FileSystem.fail(path)
            }
            if count == 0 { break }
            fileBytes += Int64(count)
            try buffer.withUnsafeBytes { raw in
                let slice = UnsafeRawBufferPointer(rebasing: raw[0..<count])
                hasher.update(bufferPointer: slice)
                do {
                    try decoder.feed(slice) { decoded in
                        trailer.consume(decoded)
                        try consume?(decoded)
                    }
                } catch let error as GzipError {
                    throw failed(error.description)
                }
            }
            throttle.report(fileBytes)
            try Interruption.shared.check(consume == nil ? "verify" : "restore")
        }
        do { try decoder.finish() } catch let error as GzipError { throw failed(error.description) }
        let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        if let expected = metadata.sha256, expected != digest {
            throw failed("SHA-256 \(digest) does not match the recorded \(expected)")
        }
        if metadata.sha256 != nil, fileBytes != metadata.sizeBytes {
            throw failed("size \(fileBytes) bytes does not match the recorded \(metadata.sizeBytes)")
        }
        if let problem = trailer.problem { throw failed(problem) }
        if let expected = metadata.uncompressedBytes, expected != trailer.byteCount {
            throw failed("the dump holds \(trailer.byteCount) bytes, \(expected) were recorded")
        }
        return VerificationReport(filename: name, checksumChecked: metadata.sha256 != nil, sha256: digest,
                                  uncompressedBytes: trailer.byteCount)
    }
}
