extension BackupManager {
    /// The identity to decrypt `metadata` with, checked before anything else happens: nil for a plain backup (and,
    /// when not `required`, for an encrypted one with no identity configured: a verify then checks what needs no
    /// key). An identity whose public keys are none of the backup's recipients is refused up front
    /// (`wrongIdentity`), so a restore never takes a safety backup or touches the database with a key that cannot
    /// decrypt; a file that is not 0600 is refused, naming it.
    public func identity(for metadata: BackupMetadata, required: Bool) throws -> AgeIdentity? {
        guard metadata.encrypted else { return nil }
        guard let configured = configuration.ageIdentity else {
            if required { throw BackupError.identityRequired(backup: metadata.filename) }
            return nil
        }
        let identity = try AgeIdentity.check(path: configured.path, setting: configured.setting)
        let keys = try identity.publicKeys(using: age)
        if !metadata.recipients.isEmpty, keys.isDisjoint(with: metadata.recipients) {
            throw BackupError.wrongIdentity(backup: metadata.filename, identityFile: identity.path)
        }
        return identity
    }

    /// A reader that decrypts `metadata`'s backup with `identity` when it is encrypted.
    func reader(identity: AgeIdentity?) -> BackupReader {
        BackupReader(storage: store, identity: identity, age: age)
    }
}
