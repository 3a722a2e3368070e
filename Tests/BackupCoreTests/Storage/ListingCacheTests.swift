import Foundation
import TestSupport
import Testing

@testable import BackupCore

@Suite("ListingCache")
struct ListingCacheTests {
    /// A clock far enough ahead that every change the test makes has settled; fixed, so the minute in directory
    /// keys does not roll over in the middle of a test.
    static func settledClock() -> @Sendable () -> timespec {
        let fixed = time(nil) + 30
        return { timespec(tv_sec: fixed, tv_nsec: 0) }
    }

    static func names(_ body: [UInt8]) throws -> [String] {
        guard case let .array(items) = try JSON.parse(body) else { throw HarnessError.setup("the list is not an array") }
        return items.compactMap { $0["filename"]?.stringValue }
    }

    static func cacheFiles(_ dir: TemporaryDirectory) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir.path + "/.cache")) ?? []).sorted()
    }

    /// Adds a backup the way pgbackup does: the sidecar is renamed into place.
    static func add(_ dir: TemporaryDirectory, _ name: String, hoursAgo: Double) throws {
        let meta = BackupStoreTests.metadata(name, hoursAgo: hoursAgo)
        try dir.write(name, [0x1f, 0x8b, 0, 0])
        let temp = try dir.write(".sidecar.tmp", meta.json.serialized(pretty: true))
        guard rename(temp, dir.path + "/" + name + ".json") == 0 else { throw HarnessError.setup("rename failed") }
    }

    static func stamp(_ seconds: Int, _ nanoseconds: Int) -> timespec { timespec(tv_sec: seconds, tv_nsec: nanoseconds) }

    @Test("a change has settled once the margin has passed since the later of mtime and ctime")
    func settlingRule() {
        let margin = Int(ListingCache.settleMargin)
        #expect(!ListingCache.hasSettled(mtime: Self.stamp(100, 5), ctime: Self.stamp(100, 5), now: Self.stamp(100, 5)))
        #expect(!ListingCache.hasSettled(mtime: Self.stamp(100, 5), ctime: Self.stamp(100, 5), now: Self.stamp(100, 4 + margin)))
        #expect(ListingCache.hasSettled(mtime: Self.stamp(100, 5), ctime: Self.stamp(100, 5), now: Self.stamp(100, 5 + margin)))
        // ctime later than mtime (a rename, or touch -d): ctime decides.
        #expect(!ListingCache.hasSettled(mtime: Self.stamp(90, 5), ctime: Self.stamp(100, 5), now: Self.stamp(100, 5 + margin - 1)))
        // Whole seconds on both: a coarse file system, 2 s.
        #expect(!ListingCache.hasSettled(mtime: Self.stamp(100, 0), ctime: Self.stamp(100, 0), now: Self.stamp(101, 0)))
        #expect(ListingCache.hasSettled(mtime: Self.stamp(100, 0), ctime: Self.stamp(100, 0), now: Self.stamp(102, 0)))
        // A whole-second mtime alone (set by tar or touch) is not a coarse file system.
        #expect(ListingCache.hasSettled(mtime: Self.stamp(100, 0), ctime: Self.stamp(100, 7), now: Self.stamp(100, 7 + margin)))
    }

    @Test("the directory's own stat is the key once settled; before that the fingerprint is")
    func settling() throws {
        let dir = try TemporaryDirectory()
        try Self.add(dir, "backup_db_20260129_100000.sql.gz", hoursAgo: 1)
        var info = stat()
        #expect(stat(dir.path, &info) == 0)
        let changed = max(Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
                          Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec))
        func cache(after nanoseconds: Int64) -> ListingCache {
            let total = changed + nanoseconds
            return ListingCache(store: BackupStore(directory: dir.path),
                                now: { timespec(tv_sec: Int(total / 1_000_000_000), tv_nsec: Int(total % 1_000_000_000)) })
        }
        #expect(cache(after: 0).directoryKey() == nil)
        #expect(cache(after: 10_000_000).key()?.hasPrefix("f") == true, "a racy directory falls back to the fingerprint")
        let key = try #require(cache(after: ListingCache.settleMargin).directoryKey())
        #expect(key.hasPrefix("d"))
        #expect(cache(after: ListingCache.settleMargin).key() == key)
    }

    @Test("an entry rendered by an older pgbackup (a key without the render version) is not served, and is pruned")
    func olderRenderingIgnored() throws {
        let dir = try TemporaryDirectory()
        try Self.add(dir, "backup_db_20260129_100000.sql.gz", hoursAgo: 1)
        try FileManager.default.createDirectory(atPath: dir.path + "/.cache", withIntermediateDirectories: false)
        let cache = ListingCache(store: BackupStore(directory: dir.path), now: Self.settledClock())
        let directoryKey = try #require(cache.directoryKey())
        let fingerprint = try #require(cache.fingerprint())
        let version = ListingCache.renderVersion
        #expect(directoryKey.hasSuffix("." + String(version, radix: 16)))
        #expect(fingerprint.hasSuffix("-" + String(version)))
        // What the previous version wrote under the same directory: both keys without the version.
        let stale = ["list-" + directoryKey.dropLast(String(version, radix: 16).count + 1) + ".json",
                     "list-f" + fingerprint.dropLast(String(version).count + 1) + ".json"]
        for name in stale { try dir.write(".cache/" + name, "[\"rendered by the previous version\"]") }
        #expect(try Self.names(cache.listBody()) == ["backup_db_20260129_100000.sql.gz"])
        #expect(Self.cacheFiles(dir).filter { stale.contains($0) }.isEmpty, "the old entries are pruned")
    }

    @Test("an unchanged directory is answered from the cache file; adding and deleting backups change the answer")
    func servesAndInvalidates() throws {
        let dir = try TemporaryDirectory()
        try Self.add(dir, "backup_db_20260129_100000.sql.gz", hoursAgo: 2)
        let cache = ListingCache(store: BackupStore(directory: dir.path), now: Self.settledClock())
        #expect(try Self.names(cache.listBody()) == ["backup_db_20260129_100000.sql.gz"])
        let listFiles = Self.cacheFiles(dir).filter { $0.hasPrefix("list-d") }
        try #require(listFiles.count == 1)

        // Proof that the next answer comes from the file: doctor it, and the doctored bytes come back.
        let cached = dir.path + "/.cache/" + listFiles[0]
        try Data("[]".utf8).write(to: URL(fileURLWithPath: cached))
        #expect(try cache.listBody() == Array("[]".utf8))

        // A new backup renamed into place changes the directory's mtime, so the key, so the answer. (The pause
        // keeps the change out of the timestamp tick of the .cache mkdir: the fixed clock claims it has settled.)
        usleep(20_000)
        try Self.add(dir, "backup_db_20260129_110000.sql.gz", hoursAgo: 1)
        #expect(try Self.names(cache.listBody()) == ["backup_db_20260129_110000.sql.gz", "backup_db_20260129_100000.sql.gz"])
        #expect(Self.cacheFiles(dir).filter { $0.hasPrefix("list-d") }.count == 1, "the old entry is pruned")
        #expect(Self.cacheFiles(dir).filter { $0.hasPrefix("list-f") }.count == 1, "one fingerprint entry is kept")

        unlink(dir.path + "/backup_db_20260129_100000.sql.gz.json")
        unlink(dir.path + "/backup_db_20260129_100000.sql.gz")
        #expect(try Self.names(cache.listBody()) == ["backup_db_20260129_110000.sql.gz"])
        #expect(try cache.summary().count == 1)
    }

    @Test("once settled, the entry rendered under the fingerprint key is reused, not rendered again")
    func settledReusesFingerprintEntry() throws {
        let dir = try TemporaryDirectory()
        try Self.add(dir, "backup_db_20260129_100000.sql.gz", hoursAgo: 1)
        try FileManager.default.createDirectory(atPath: dir.path + "/.cache", withIntermediateDirectories: false)
        var info = stat()
        #expect(stat(dir.path, &info) == 0)
        let changed = max(info.st_mtim.tv_sec, info.st_ctim.tv_sec)
        let racy = ListingCache(store: BackupStore(directory: dir.path), now: { timespec(tv_sec: changed, tv_nsec: 0) })
        let settled = ListingCache(store: BackupStore(directory: dir.path), now: Self.settledClock())
        let fingerprintKey = try #require(racy.key())
        try #require(fingerprintKey.hasPrefix("f"))
        let plain = try racy.listBody()
        let fingerprintFile = dir.path + "/.cache/list-\(fingerprintKey).json"
        #expect(FileManager.default.contents(atPath: fingerprintFile) == Data(plain))

        // Doctored, so that a copy can be told from a new rendering.
        try Data("[\"from the fingerprint entry\"]".utf8).write(to: URL(fileURLWithPath: fingerprintFile))
        #expect(try settled.listBody() == Array("[\"from the fingerprint entry\"]".utf8))
        #expect(Self.cacheFiles(dir).filter { $0.hasPrefix("list-d") }.count == 1)

        // A fingerprint entry that no longer matches is not used.
        try Self.add(dir, "backup_db_20260129_110000.sql.gz", hoursAgo: 0.5)
        try Data("[]".utf8).write(to: URL(fileURLWithPath: fingerprintFile))
        #expect(try Self.names(settled.listBody()) == ["backup_db_20260129_110000.sql.gz", "backup_db_20260129_100000.sql.gz"])
    }

    @Test("a sidecar rewritten in place (no rename) is seen when the minute in the key rolls over")
    func inPlaceEditSeenWithinAMinute() throws {
        let dir = try TemporaryDirectory()
        let name = "backup_db_20260129_100000.sql.gz"
        try Self.add(dir, name, hoursAgo: 1)
        try FileManager.default.createDirectory(atPath: dir.path + "/.cache", withIntermediateDirectories: false)
        let clock = TestClock(time(nil) + 30)
        let cache = ListingCache(store: BackupStore(directory: dir.path), now: { clock.now })
        func description() throws -> String? {
            guard case let .array(items) = try JSON.parse(cache.listBody()) else { return nil }
            return items.first?["description"]?.stringValue
        }
        #expect(try description() == "test")

        var meta = BackupStoreTests.metadata(name, hoursAgo: 1)
        meta.description = "edited in place"
        let handle = try #require(FileHandle(forWritingAtPath: dir.path + "/" + name + ".json"))
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: Data(meta.json.serialized(pretty: true).utf8))
        try handle.close()
        #expect(try description() == "test", "within the minute the directory key still stands (documented)")
        clock.advance(60)
        #expect(try description() == "edited in place")
    }

    @Test("a missing backup directory lists as empty and is not created by the read")
    func missingDirectoryNotCreated() throws {
        let dir = try TemporaryDirectory()
        let missing = dir.path + "/not-there/backups"
        let cache = ListingCache(store: BackupStore(directory: missing))
        #expect(try cache.listBody() == Array("[]".utf8))
        #expect(try cache.summary().count == 0)
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/not-there"))
    }

    @Test("with the real clock a change is seen at once, even inside the settling margin")
    func racyChangesSeen() throws {
        let dir = try TemporaryDirectory()
        let cache = ListingCache(store: BackupStore(directory: dir.path))
        var expected: [String] = []
        for minute in 0..<5 {
            let name = "backup_db_20260129_10\(minute)000.sql.gz"
            try Self.add(dir, name, hoursAgo: 5 - Double(minute))
            expected.insert(name, at: 0)
            #expect(try Self.names(cache.listBody()) == expected)
            #expect(try cache.summary().count == expected.count)
        }
    }

    @Test("the gzip body decodes to the list and a newline")
    func gzipBody() throws {
        let dir = try TemporaryDirectory()
        for hour in 0..<30 { try Self.add(dir, "backup_db_20260129_\(String(format: "%02d", hour % 24))\(hour / 24)000.sql.gz", hoursAgo: Double(hour)) }
        let cache = ListingCache(store: BackupStore(directory: dir.path), now: Self.settledClock())
        let compressed = try cache.listBodyGzip()
        #expect(Array(compressed.prefix(2)) == [0x1f, 0x8b])
        #expect(try Gzip.decompress(compressed) == cache.listBody() + [0x0a])
        #expect(try compressed.count * 5 < cache.listBody().count)
        #expect(try cache.listBodyGzip() == compressed)
    }

    @Test("many callers after a change all get the new list, and one cache file per kind is left")
    func concurrentCallers() throws {
        let dir = try TemporaryDirectory()
        for minute in 0..<50 { try Self.add(dir, "backup_db_20260129_10\(String(format: "%02d", minute))00.sql.gz", hoursAgo: Double(minute)) }
        let cache = ListingCache(store: BackupStore(directory: dir.path), now: Self.settledClock())
        let expected = Array(JSON.array(try BackupStore(directory: dir.path).listing().entries.map(\.json)).serialized().utf8)
        let results = Results()
        DispatchQueue.concurrentPerform(iterations: 16) { index in
            let body = index % 2 == 0 ? try? cache.listBody() : try? Gzip.decompress(cache.listBodyGzip()).dropLast()
            results.add(body.map(Array.init))
        }
        #expect(results.values.count == 16)
        #expect(results.values.allSatisfy { $0 == expected })
        let files = Self.cacheFiles(dir).filter { $0.hasSuffix(".json") }
        for kind in ["list", "listgz"] {
            #expect(files.filter { $0.hasPrefix("\(kind)-d") }.count == 1, "\(files)")
            #expect(files.filter { $0.hasPrefix("\(kind)-f") }.count == 1, "\(files)")
        }
    }
}

private final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var seconds: Int
    init(_ seconds: Int) { self.seconds = seconds }
    var now: timespec { lock.withLock { timespec(tv_sec: seconds, tv_nsec: 0) } }
    func advance(_ by: Int) { lock.withLock { seconds += by } }
}

private final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [[UInt8]?] = []
    func add(_ value: [UInt8]?) { lock.withLock { stored.append(value) } }
    var values: [[UInt8]?] { lock.withLock { stored } }
}
