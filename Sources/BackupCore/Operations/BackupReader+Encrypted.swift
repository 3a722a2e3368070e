/// The reading of encrypted backups: with the identity, age decrypts in the stream; without it, only what needs no
/// key is checked.
extension BackupReader {
    /// `age -d -i IDENTITY_FILE` in front of `decoder`.
    func decrypting(into decoder: ByteStage) throws -> AgeDecryptStage {
        guard let identity else { throw BackupError.identityRequired(backup: "") }
        return try BackupError.mapping { try AgeDecryptStage(identity: identity, tool: age, next: decoder) }
    }

    /// A verify without the key: the sha256 and size of the stored bytes against the sidecar, and a well-formed
    /// age header; the report says the content was not checked.
    ///
    ///     stored dump → SHA-256 → byte count → progress → age header check
    func readWithoutIdentity(_ metadata: BackupMetadata, progress: ProgressHandler?) throws -> VerificationReport {
        let size = ByteCountStage(next: ProgressStage(phase: "verify", handler: progress, next: AgeHeaderStage()))
        let sha256 = SHA256Stage(next: size)
        try pump(try storage.openDump(metadata.filename), into: sha256, name: metadata.filename, operation: "verify")
        let digest = sha256.hexDigest ?? ""
        try checkStored(metadata, sha256: digest, size: size.count)
        var report = VerificationReport(filename: metadata.filename, checksumChecked: metadata.sha256 != nil,
                                        sha256: digest, uncompressedBytes: metadata.uncompressedBytes ?? 0,
                                        codec: metadata.compression)
        report.encrypted = true
        report.contentChecked = false
        return report
    }
}
