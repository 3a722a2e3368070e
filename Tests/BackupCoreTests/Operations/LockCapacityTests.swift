import Foundation
import Testing

@testable import BackupCore

@Suite("LockCapacity")
struct LockCapacityTests {
    static let defaults = LockCapacity(maxLocksPerTransaction: 64, maxConnections: 100, maxPreparedTransactions: 0,
                                       heldByOthers: 0, targetObjects: 0)

    @Test("the default server holds 6,400 entries and leaves a restore 5,760 of them")
    func defaults() {
        #expect(Self.defaults.total == 6_400)
        #expect(Self.defaults.available == 5_760)
        #expect(Self.defaults.fits(dumpObjects: 5_760 - LockCapacity.ownOverhead))
        #expect(!Self.defaults.fits(dumpObjects: 5_760 - LockCapacity.ownOverhead + 1))
    }

    @Test("the target's objects and other sessions' locks count against the restore")
    func targetAndOthers() {
        var capacity = Self.defaults
        capacity.targetObjects = 1_000
        capacity.heldByOthers = 500
        #expect(capacity.needed(dumpObjects: 3_000) == 4_064)
        #expect(capacity.available == 5_260)
        #expect(capacity.fits(dumpObjects: 4_196))
        #expect(!capacity.fits(dumpObjects: 4_197))
    }

    @Test("the computed setting is the smallest multiple of 64 with which it fits, never below the current one")
    func requiredSetting() {
        // 4,000 serial-key tables: 12,000 entries + 64 own; 12,064 / 0.9 = 13,405 entries = 135 a slot → 192.
        let setting = Self.defaults.requiredSetting(dumpObjects: 12_000)
        #expect(setting == 192)
        var raised = Self.defaults
        raised.maxLocksPerTransaction = setting
        #expect(raised.fits(dumpObjects: 12_000))
        raised.maxLocksPerTransaction = setting - 64
        #expect(!raised.fits(dumpObjects: 12_000))
        #expect(Self.defaults.requiredSetting(dumpObjects: 10) == 64)
        var prepared = Self.defaults
        prepared.maxPreparedTransactions = 100
        prepared.heldByOthers = 2_000
        #expect(prepared.requiredSetting(dumpObjects: 30_000) == 192)
        prepared.maxLocksPerTransaction = 192
        #expect(prepared.fits(dumpObjects: 30_000))
    }

    @Test("the refusal's message gives the numbers and both ways out")
    func message() {
        let error = BackupError.lockCapacityExceeded(LockShortage(backup: "b.sql.gz", target: "app", dumpObjects: 12_000,
                                                                  capacity: Self.defaults))
        #expect(error.code == "lock_capacity_exceeded")
        #expect(error.description.contains("needs about 12064 lock-table entries"))
        #expect(error.description.contains("max_locks_per_transaction=64 × (max_connections=100"))
        #expect(error.description.contains("nothing was touched"))
        #expect(error.hint?.contains("max_locks_per_transaction = 192") == true)
        #expect(error.hint?.contains("restart") == true)
        #expect(error.hint?.contains("Past the lock wall") == true)
    }
}
