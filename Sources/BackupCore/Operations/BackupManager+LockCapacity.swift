import Foundation

/// The refusal of a restore that cannot fit in the server's lock table, made before the safety backup and before
/// anything is touched (see `LockCapacity`).
extension BackupManager {
    /// Refuses with `lockCapacityExceeded` when restoring `metadata` into `target` in one transaction would not fit
    /// beside what other sessions hold now and the headroom kept for them. The dump's count is the sidecar's
    /// `lockable_objects`; a backup without it (made before pgbackup counted, or by the old tool) is counted from
    /// its file in a decode-only pre-pass, skipped when even `uncompressed_bytes / minimumBytesPerObject` fits.
    func checkLockCapacity(_ metadata: BackupMetadata, identity: AgeIdentity?, target: String,
                           server: (text: String, number: Int)) throws {
        let capacity = try tools.lockCapacity(database: target)
        if metadata.lockableObjects == nil, let bytes = metadata.uncompressedBytes,
           capacity.fits(dumpObjects: bytes / LockCapacity.minimumBytesPerObject) {
            return
        }
        let dumpObjects = try metadata.lockableObjects ?? countLockableObjects(metadata, identity: identity)
        guard !capacity.fits(dumpObjects: dumpObjects) else { return }
        throw BackupError.lockCapacityExceeded(LockShortage(backup: metadata.filename, target: target,
                                                            dumpObjects: dumpObjects, capacity: capacity))
    }

    /// The pre-pass: the stored file decoded (and decrypted with `identity`) through `LockableObjectCounter`,
    /// nothing written anywhere. Its decode checks run too, so a damaged file fails here, before the safety backup.
    func countLockableObjects(_ metadata: BackupMetadata, identity: AgeIdentity?) throws -> Int64 {
        let counter = LockableObjectCounter(next: DiscardSink())
        logger.info("counting the backup's lockable objects (its sidecar has no lockable_objects)",
                    metadata: ["filename": "\(metadata.filename)"])
        _ = try reader(identity: identity).read(metadata, into: counter, storedBytesChecked: metadata.sha256 != nil)
        return counter.count
    }
}

/// The numbers of a refused restore, for its message.
public struct LockShortage: Sendable, Equatable {
    public var backup: String
    public var target: String
    public var dumpObjects: Int64
    public var capacity: LockCapacity

    public var needed: Int64 { capacity.needed(dumpObjects: dumpObjects) }
    public var requiredSetting: Int64 { capacity.requiredSetting(dumpObjects: dumpObjects) }

    /// The numbers as the API and `--json` show them (`lock_capacity` beside the error).
    var json: JSON {
        .object([
            ("needed", .int(needed)), ("dump_objects", .int(dumpObjects)), ("target_objects", .int(capacity.targetObjects)),
            ("held_by_others", .int(capacity.heldByOthers)), ("capacity", .int(capacity.total)),
            ("max_locks_per_transaction", .int(capacity.maxLocksPerTransaction)),
            ("max_connections", .int(capacity.maxConnections)),
            ("max_prepared_transactions", .int(capacity.maxPreparedTransactions)),
            ("required_max_locks_per_transaction", .int(requiredSetting)),
        ])
    }

    var message: String {
        "restoring '\(backup)' into '\(target)' in one transaction needs about \(needed) lock-table entries "
            + "(\(dumpObjects) for the dump's objects, \(capacity.targetObjects) for the target's own objects its DROPs "
            + "lock, \(LockCapacity.ownOverhead) for the restore itself), but the server's lock table holds about "
            + "\(capacity.total) (max_locks_per_transaction=\(capacity.maxLocksPerTransaction) × (max_connections="
            + "\(capacity.maxConnections) + max_prepared_transactions=\(capacity.maxPreparedTransactions))), other "
            + "sessions hold \(capacity.heldByOthers) now and \(LockCapacity.headroomPercent)% is kept for them; "
            + "refused before the safety backup, nothing was touched"
    }

    var hint: String {
        "Set max_locks_per_transaction = \(requiredSetting) on the server (ALTER SYSTEM SET max_locks_per_transaction "
            + "= \(requiredSetting); it takes effect only after a restart of PostgreSQL), or restore with --swap "
            + "(API \"mode\": \"swap\"): the backup goes into a new database in ordinary transactions, which have no "
            + "such limit, and is swapped in once checked (README: \"Past the lock wall\", \"Restore modes\")."
    }
}
