import Foundation

/// The server's lock table against what a single-transaction restore needs. A restore holds every lock until
/// COMMIT, and the shared lock table is sized for about `max_locks_per_transaction × (max_connections +
/// max_prepared_transactions)` entries for ALL sessions together; past it the restore fails with "out of shared
/// memory" after the safety backup, and other sessions can fail too. So a restore must fit with room to spare.
public struct LockCapacity: Sendable, Equatable {
    public var maxLocksPerTransaction: Int64
    public var maxConnections: Int64
    public var maxPreparedTransactions: Int64
    /// Lock-table entries other sessions hold now (distinct lock tags outside their fast-path slots).
    public var heldByOthers: Int64
    /// The target's own objects, which the dump's `--clean` DROPs lock as they go (all of them: an upper bound).
    public var targetObjects: Int64

    /// Entries the restoring transaction takes besides the objects: catalogs it writes, its own transaction id.
    public static let ownOverhead: Int64 = 64
    /// The part of the lock table left for other sessions (the application keeps running during a restore).
    public static let headroomPercent: Int64 = 10
    /// A dump spends at least this many bytes per lock-table entry it counts (a `-- Name: …; Type: …` comment and
    /// its statement, or a 38-byte `lo_create` line): `uncompressed_bytes / minimumBytesPerObject` bounds the count.
    public static let minimumBytesPerObject: Int64 = 30

    public init(maxLocksPerTransaction: Int64, maxConnections: Int64, maxPreparedTransactions: Int64,
                heldByOthers: Int64, targetObjects: Int64) {
        self.maxLocksPerTransaction = maxLocksPerTransaction
        self.maxConnections = maxConnections
        self.maxPreparedTransactions = maxPreparedTransactions
        self.heldByOthers = heldByOthers
        self.targetObjects = targetObjects
    }

    /// The sessions the lock table is sized for.
    public var slots: Int64 { max(1, maxConnections + maxPreparedTransactions) }
    /// About how many entries the lock table holds.
    public var total: Int64 { maxLocksPerTransaction * slots }
    /// The entries a restore may use: the total less what others hold and the headroom kept for them.
    public var available: Int64 { total - heldByOthers - total * Self.headroomPercent / 100 }

    /// What restoring a dump of `dumpObjects` entries into this target takes in all.
    public func needed(dumpObjects: Int64) -> Int64 { dumpObjects + targetObjects + Self.ownOverhead }

    public func fits(dumpObjects: Int64) -> Bool { needed(dumpObjects: dumpObjects) <= available }

    /// The smallest `max_locks_per_transaction`, a multiple of 64, with which the restore fits beside what others
    /// hold now and the headroom; never below the current setting.
    public func requiredSetting(dumpObjects: Int64) -> Int64 {
        let wanted = needed(dumpObjects: dumpObjects) + heldByOthers
        let share = 100 - Self.headroomPercent
        let entries = (wanted * 100 + share - 1) / share
        let perSlot = (entries + slots - 1) / slots
        return max(maxLocksPerTransaction, (perSlot + 63) / 64 * 64)
    }
}
