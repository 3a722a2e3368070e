import Foundation

/// Reads a backup end to end and checks it: the SHA-256 of the file against the sidecar, the codec's own checks
/// (every gzip CRC), and pg_dump's trailer. The stored bytes go through a pipeline of stages:
///
///     stored dump → SHA-256 → byte count → progress → codec decoder → dump trailer → `plain` (or discard)
///
/// so a restore passes its own stages as `plain` and feeds psql in the same pass.
struct BackupReader {
    let storage: any BackupStorage
    let codec: Codec

    /// The stages whose findings are checked against the sidecar.
    private struct Findings {
        let sha256: SHA256Stage
        let size: ByteCountStage
        let trailer: DumpTrailerStage
    }

    /// Reads and checks the backup; throws `verificationFailed` saying what failed.
    /// - Parameter plain: where the decoded dump goes on (a restore's stages); nil discards it (verify).
    func read(_ metadata: BackupMetadata, progress: ProgressHandler? = nil,
              into plain: ByteStage? = nil) throws -> VerificationReport {
        let operation = plain == nil ? "verify" : "restore"
        let dump = try storage.openDump(metadata.filename)
        let trailer = DumpTrailerStage(next: plain ?? DiscardSink())
        let decoder = try codec.decoder(next: trailer)
        let size = ByteCountStage(next: ProgressStage(phase: operation, handler: progress, next: decoder))
        let sha256 = SHA256Stage(next: size)
        do {
            try dump.source.pump(into: sha256, interruptible: operation)
        } catch let error as GzipError {
            throw BackupError.verificationFailed(name: metadata.filename, reason: error.description)
        } catch let error as CodecError {
            throw BackupError.verificationFailed(name: metadata.filename, reason: error.description)
        }
        return try check(metadata, against: Findings(sha256: sha256, size: size, trailer: trailer))
    }

    private func check(_ metadata: BackupMetadata, against found: Findings) throws -> VerificationReport {
        func failed(_ reason: String) -> BackupError { .verificationFailed(name: metadata.filename, reason: reason) }
        let digest = found.sha256.hexDigest ?? ""
        if let expected = metadata.sha256, expected != digest {
            throw failed("SHA-256 \(digest) does not match the recorded \(expected)")
        }
        if metadata.sha256 != nil, found.size.count != metadata.sizeBytes {
            throw failed("size \(found.size.count) bytes does not match the recorded \(metadata.sizeBytes)")
        }
        if let problem = found.trailer.problem { throw failed(problem) }
        if let expected = metadata.uncompressedBytes, expected != found.trailer.byteCount {
            throw failed("the dump holds \(found.trailer.byteCount) bytes, \(expected) were recorded")
        }
        return VerificationReport(filename: metadata.filename, checksumChecked: metadata.sha256 != nil, sha256: digest,
                                  uncompressedBytes: found.trailer.byteCount)
    }
}
