import Foundation
import TestSupport
import Testing

@testable import BackupCore

/// With off-site copies on, the list merges the local index of the remote (`.remote.json`): a change to it alone
/// (a `sync` on a new machine) must give a new list, also where the fingerprint decides (it skips dot files).
@Suite("ListingCache with off-site copies")
struct ListingCacheRemoteTests {
    @Test("a sync that only rewrote the remote index is listed at once")
    func remoteIndexChangeIsSeen() throws {
        let dir = try TemporaryDirectory()
        let store = BackupStore(directory: dir.path)
        try store.prepare()
        let cache = ListingCache(store: store, offsite: true, now: ListingCacheTests.settledClock())
        #expect(try ListingCacheTests.names(cache.listBody()).isEmpty)
        let before = try #require(cache.fingerprint())

        let remoteOnly = BackupStoreTests.metadata("backup_db_20260129_100000.sql.gz", hoursAgo: 1)
        try RemoteState.update(store) { state in
            state.remoteBackups = [remoteOnly]
            state.refreshedAt = Date()
        }
        #expect(cache.fingerprint() != before, "the index is part of the fingerprint")
        #expect(try ListingCacheTests.names(cache.listBody()) == [remoteOnly.filename])

        // Off-site copies off: the index is not part of the key (nor of the list).
        let plain = ListingCache(store: store, now: ListingCacheTests.settledClock())
        #expect(plain.fingerprint()?.contains("-r") == false)
    }
}
