import Foundation

/// Reads a backup end to end and checks it: the SHA-256 of the file against the sidecar, the codec's own checks
/// (every gzip CRC, or zstd's frame checksum), and pg_dump's trailer. The codec is the backup's own (its sidecar's
/// `compression`, which must agree with the name's suffix), not the configured one. The stored bytes go through a
/// pipeline of stages:
///
///     stored dump → SHA-256 → byte count → progress → codec decoder → dump trailer → `plain` (or discard)
///
/// so a restore passes its own stages as `plain` and feeds psql in the same pass. An encrypted backup is decrypted
/// first (`… progress → age -d → codec decoder …`) with `identity`; without one, a verify checks the stored bytes
/// and the age header only (`BackupReader+Encrypted`).
struct BackupReader {
    let storage: any BackupStorage
    /// The key an encrypted backup is decrypted with, already matched to its recipients; nil for plain backups.
    var identity: AgeIdentity?
    var age = AgeTool(environment: [:])

    /// The stages whose findings are checked against the sidecar.
    private struct Findings {
        let sha256: SHA256Stage?
        let size: ByteCountStage
        let trailer: DumpTrailerStage
    }

    /// Reads and checks the backup; throws `verificationFailed` saying what failed.
    /// - Parameter plain: where the decoded dump goes on (a restore's stages); nil discards it (verify).
    /// - Parameter storedBytesChecked: `checkStoredBytes` already passed, so the stored bytes are not hashed again;
    ///   the decode checks (codec, trailer, uncompressed size) still run.
    func read(_ metadata: BackupMetadata, progress: ProgressHandler? = nil,
              into plain: ByteStage? = nil, storedBytesChecked: Bool = false) throws -> VerificationReport {
        let operation = plain == nil ? "verify" : "restore"
        if metadata.encrypted, identity == nil {
            guard plain == nil else { throw BackupError.identityRequired(backup: metadata.filename) }
            return try readWithoutIdentity(metadata, progress: progress)
        }
        let dump = try storage.openDump(metadata.filename)
        let trailer = DumpTrailerStage(next: plain ?? DiscardSink())
        let decoder = try metadata.compression.decoder(next: trailer)
        let decryption = try metadata.encrypted ? decrypting(into: decoder) : nil
        // age's output thread writes into `plain` (psql's stdin, say): it must be done before that goes away.
        defer { decryption?.cancel() }
        let size = ByteCountStage(next: ProgressStage(phase: operation, handler: progress, next: decryption ?? decoder))
        let sha256 = storedBytesChecked ? nil : SHA256Stage(next: size)
        do {
            try pump(dump, into: sha256 ?? size, name: metadata.filename, operation: operation)
        } catch BackupError.verificationFailed(let name, let reason) where decryption != nil && sha256 != nil {
            // age stops at the first damaged chunk, before the digest is known; a file that changed since it was
            // written is better reported as that.
            decryption?.cancel()
            try checkStoredBytes(metadata)
            throw BackupError.verificationFailed(name: name, reason: reason)
        }
        var report = try check(metadata, against: Findings(sha256: sha256, size: size, trailer: trailer))
        report.encrypted = metadata.encrypted
        return report
    }

    /// Checks only the stored bytes against the sidecar's sha256 and size, decoding nothing: the cheap check a
    /// restore makes before anything else. Needs a recorded sha256 (`metadata.sha256 != nil`).
    func checkStoredBytes(_ metadata: BackupMetadata) throws {
        let size = ByteCountStage(next: DiscardSink())
        let sha256 = SHA256Stage(next: size)
        try pump(try storage.openDump(metadata.filename), into: sha256, name: metadata.filename, operation: "restore")
        try checkStored(metadata, sha256: sha256.hexDigest ?? "", size: size.count)
    }

    func pump(_ dump: StoredDump, into head: ByteStage, name: String, operation: String) throws {
        do {
            try dump.source.pump(into: head, interruptible: operation)
        } catch let error as GzipError {
            throw BackupError.verificationFailed(name: name, reason: error.description)
        } catch let error as CodecError {
            throw BackupError.verificationFailed(name: name, reason: error.description)
        } catch let error as AgeError {
            throw BackupError.verificationFailed(name: name, reason: error.description)
        }
    }

    func checkStored(_ metadata: BackupMetadata, sha256 digest: String, size: Int64) throws {
        if let expected = metadata.sha256, expected != digest {
            throw BackupError.verificationFailed(
                name: metadata.filename, reason: "SHA-256 \(digest) does not match the recorded \(expected)")
        }
        if metadata.sha256 != nil, size != metadata.sizeBytes {
            throw BackupError.verificationFailed(
                name: metadata.filename, reason: "size \(size) bytes does not match the recorded \(metadata.sizeBytes)")
        }
    }

    private func check(_ metadata: BackupMetadata, against found: Findings) throws -> VerificationReport {
        func failed(_ reason: String) -> BackupError { .verificationFailed(name: metadata.filename, reason: reason) }
        let digest = found.sha256?.hexDigest ?? metadata.sha256 ?? ""
        if found.sha256 != nil { try checkStored(metadata, sha256: digest, size: found.size.count) }
        if let problem = found.trailer.problem { throw failed(problem) }
        if let expected = metadata.uncompressedBytes, expected != found.trailer.byteCount {
            throw failed("the dump holds \(found.trailer.byteCount) bytes, \(expected) were recorded")
        }
        return VerificationReport(filename: metadata.filename, checksumChecked: metadata.sha256 != nil, sha256: digest,
                                  uncompressedBytes: found.trailer.byteCount, codec: metadata.compression)
    }
}
