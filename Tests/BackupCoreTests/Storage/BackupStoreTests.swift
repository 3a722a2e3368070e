import Foundation
import TestSupport
import Testing

@testable import BackupCore

@Suite("BackupStore")
struct BackupStoreTests {
    static let base = Date(timeIntervalSince1970: 1_769_697_022)  // 2026-01-29 14:30:22 UTC

    static func metadata(_ name: String, hoursAgo: Double, sha: Bool = true) -> BackupMetadata {
        BackupMetadata(filename: name, createdAt: base.addingTimeInterval(-hoursAgo * 3600), database: "db",
                       sizeBytes: 4, description: "test", compressed: true,
                       sha256: sha ? String(repeating: "0", count: 64) : nil, kind: .manual, formatVersion: 1)
    }

    /// Writes a dump and (unless `sidecar` is false) its sidecar.
    static func addBackup(_ dir: TemporaryDirectory, _ meta: BackupMetadata, sidecar: Bool = true) throws {
        try dir.write(meta.filename, [0x1f, 0x8b, 0, 0])
        if sidecar { try dir.write(meta.filename + ".json", meta.json.serialized(pretty: true)) }
    }

    @Test("a missing directory lists as empty")
    func missingDirectory() throws {
        let listing = try BackupStore(directory: "/nonexistent/pgbackup-unit").listing()
        #expect(listing.backups.isEmpty)
        #expect(listing.damaged.isEmpty)
        #expect(listing.orphans.isEmpty)
    }

    @Test("complete backups are listed newest first, by created_at not by name")
    func sortedNewestFirst() throws {
        let dir = try TemporaryDirectory()
        // Names deliberately disagree with created_at: the sidecar's date decides.
        let a = Self.metadata("backup_db_20260101_000000.sql.gz", hoursAgo: 1)
        let b = Self.metadata("backup_db_20260129_000000.sql.gz", hoursAgo: 48)
        let c = Self.metadata("backup_db_20260115_000000.sql.gz", hoursAgo: 24, sha: false)
        for meta in [b, c, a] { try Self.addBackup(dir, meta) }
        let listing = try BackupStore(directory: dir.path).listing()
        #expect(listing.backups.map(\.filename) == [a.filename, c.filename, b.filename])
        #expect(listing.backups == [a, c, b])
        #expect(listing.damaged.isEmpty)
        #expect(listing.orphans.isEmpty)
        #expect(listing.entries.map(\.filename) == [a.filename, c.filename, b.filename])
        #expect(listing.entries.map { $0.json["verified"] } == [.bool(true), .bool(false), .bool(true)])
    }

    @Test("equal created_at: ordered by name, newest counter first")
    func tiesByName() throws {
        let dir = try TemporaryDirectory()
        let first = Self.metadata("backup_db_20260129_143022.sql.gz", hoursAgo: 0)
        let second = Self.metadata("backup_db_20260129_143022_2.sql.gz", hoursAgo: 0)
        try Self.addBackup(dir, first)
        try Self.addBackup(dir, second)
        #expect(try BackupStore(directory: dir.path).listing().backups.map(\.filename) == [second.filename, first.filename])
    }

    @Test("a dump without a sidecar is an orphan, not a backup")
    func orphans() throws {
        let dir = try TemporaryDirectory()
        let complete = Self.metadata("backup_db_20260129_120000.sql.gz", hoursAgo: 2)
        try Self.addBackup(dir, complete)
        try Self.addBackup(dir, Self.metadata("backup_db_20260129_140000.sql.gz", hoursAgo: 0), sidecar: false)
        try Self.addBackup(dir, Self.metadata("backup_db_20260128_140000.sql.gz", hoursAgo: 24), sidecar: false)
        let listing = try BackupStore(directory: dir.path).listing()
        #expect(listing.backups.map(\.filename) == [complete.filename])
        #expect(listing.orphans == ["backup_db_20260129_140000.sql.gz", "backup_db_20260128_140000.sql.gz"])
        #expect(listing.damaged.isEmpty)
    }

    @Test("a damaged sidecar is listed with its error, and the rest still lists")
    func damagedSidecar() throws {
        let dir = try TemporaryDirectory()
        let good = Self.metadata("backup_db_20260129_120000.sql.gz", hoursAgo: 2)
        try Self.addBackup(dir, good)
        try dir.write("backup_db_20260129_130000.sql.gz", [0x1f, 0x8b])
        try dir.write("backup_db_20260129_130000.sql.gz.json", "{ not json")
        let listing = try BackupStore(directory: dir.path).listing()
        #expect(listing.backups.map(\.filename) == [good.filename])
        #expect(listing.damaged.count == 1)
        #expect(listing.damaged.first?.filename == "backup_db_20260129_130000.sql.gz")
        #expect(listing.damaged.first?.error == "not valid JSON (expected a key at byte 2)")
        #expect(listing.entries.map(\.filename) == [good.filename, "backup_db_20260129_130000.sql.gz"])
        let damagedJSON = listing.entries.last?.json
        #expect(damagedJSON == .object([("filename", .string("backup_db_20260129_130000.sql.gz")),
                                        ("error", .string("not valid JSON (expected a key at byte 2)")),
                                        ("verified", .bool(false))]))
    }

    @Test("a sidecar naming another file is damaged")
    func sidecarNamesAnotherFile() throws {
        let dir = try TemporaryDirectory()
        let name = "backup_db_20260129_120000.sql.gz"
        try dir.write(name, [0x1f, 0x8b])
        let liar = Self.metadata("backup_other_20260129_120000.sql.gz", hoursAgo: 1)
        try dir.write(name + ".json", liar.json.serialized())
        let listing = try BackupStore(directory: dir.path).listing()
        #expect(listing.backups.isEmpty)
        #expect(listing.damaged.map(\.filename) == [name])
        #expect(listing.damaged.first?.error == "metadata names another file ('backup_other_20260129_120000.sql.gz')")
    }

    @Test("a sidecar without its dump is damaged, never a backup")
    func sidecarWithoutDump() throws {
        let dir = try TemporaryDirectory()
        let meta = Self.metadata("backup_db_20260129_120000.sql.gz", hoursAgo: 1)
        try dir.write(meta.filename + ".json", meta.json.serialized())
        let listing = try BackupStore(directory: dir.path).listing()
        #expect(listing.backups.isEmpty)
        #expect(listing.orphans.isEmpty)
        #expect(listing.damaged.map(\.filename) == [meta.filename])
        #expect(listing.damaged.first?.error == "the backup file is missing; only its metadata is left")
    }

    @Test("a dump that is a directory or a symlink is damaged")
    func dumpNotRegularFile() throws {
        let dir = try TemporaryDirectory()
        let asDirectory = Self.metadata("backup_db_20260129_120000.sql.gz", hoursAgo: 1)
        try FileManager.default.createDirectory(atPath: dir.file(asDirectory.filename), withIntermediateDirectories: false)
        try dir.write(asDirectory.filename + ".json", asDirectory.json.serialized())
        let asLink = Self.metadata("backup_db_20260129_110000.sql.gz", hoursAgo: 2)
        try FileManager.default.createSymbolicLink(atPath: dir.file(asLink.filename), withDestinationPath: "/etc/passwd")
        try dir.write(asLink.filename + ".json", asLink.json.serialized())
        let listing = try BackupStore(directory: dir.path).listing()
        #expect(listing.backups.isEmpty)
        #expect(listing.damaged.map(\.filename) == [asDirectory.filename, asLink.filename])
        #expect(listing.damaged.allSatisfy { $0.error == "the backup file is missing or not a regular file" })
    }

    @Test("files with invalid names and housekeeping files are ignored")
    func invalidNamesIgnored() throws {
        let dir = try TemporaryDirectory()
        let good = Self.metadata("backup_db_20260129_120000.sql.gz", hoursAgo: 1)
        try Self.addBackup(dir, good)
        for name in ["notes.txt", "backup_db.sql.gz", "backup_db_2026012_120000.sql.gz", "backup_db_20260129_120000.sql",
                     "backup_db_20260129_120000.sql.gz.bak", "x.sql.gz.json", "backup_db_2026_1.sql.gz.json", ".lock",
                     ".state.json", "backup_db_20260129_120000.sql.gz.json.tmp"] {
            try dir.write(name, "{}")
        }
        try FileManager.default.createDirectory(atPath: dir.file(".partial"), withIntermediateDirectories: false)
        try dir.write(".partial/backup_db_20260129_130000.sql.gz", [1, 2, 3])
        let listing = try BackupStore(directory: dir.path).listing()
        #expect(listing.backups.map(\.filename) == [good.filename])
        #expect(listing.damaged.isEmpty)
        #expect(listing.orphans.isEmpty)
    }

    @Test("a directory holding gzip and zstd backups lists both, with orphans and damage of either kind")
    func mixedCodecs() throws {
        let dir = try TemporaryDirectory()
        var zstd = Self.metadata("backup_db_20260129_120000.sql.zst", hoursAgo: 1)
        zstd.compression = .zstd
        let gzip = Self.metadata("backup_db_20260129_110000.sql.gz", hoursAgo: 2)
        let oldTool = Self.metadata("backup_db_20260129_100000.sql.gz", hoursAgo: 3, sha: false)
        var sameSecond = Self.metadata("backup_db_20260129_120000_2.sql.zst", hoursAgo: 1)
        sameSecond.compression = .zstd
        for meta in [gzip, zstd, oldTool, sameSecond] { try Self.addBackup(dir, meta) }
        // The old tool's sidecar has no compression field: rewrite it without one.
        guard case let .object(fields) = oldTool.json else { Issue.record("sidecar JSON is not an object"); return }
        try dir.write(oldTool.filename + ".json", JSON.object(fields.filter { $0.0 != "compression" }).serialized())
        try Self.addBackup(dir, Self.metadata("backup_db_20260129_130000.sql.zst", hoursAgo: 0), sidecar: false)
        try Self.addBackup(dir, Self.metadata("backup_db_20260129_130000.sql.gz", hoursAgo: 0), sidecar: false)
        var lost = Self.metadata("backup_db_20260129_090000.sql.zst", hoursAgo: 4)
        lost.compression = .zstd
        try dir.write(lost.filename + ".json", lost.json.serialized())
        // A sidecar that says gzip for a .sql.zst file: damaged, not decoded the wrong way.
        try Self.addBackup(dir, Self.metadata("backup_db_20260129_080000.sql.zst", hoursAgo: 5))

        let listing = try BackupStore(directory: dir.path).listing()
        #expect(listing.backups.map(\.filename) == [sameSecond.filename, zstd.filename, gzip.filename, oldTool.filename])
        #expect(listing.backups.map(\.compression) == [.zstd, .zstd, .gzip, .gzip])
        #expect(listing.orphans == ["backup_db_20260129_130000.sql.zst", "backup_db_20260129_130000.sql.gz"])
        #expect(listing.damaged.map(\.filename) == ["backup_db_20260129_090000.sql.zst", "backup_db_20260129_080000.sql.zst"])
        #expect(listing.damaged.map(\.error) == [
            "the backup file is missing; only its metadata is left",
            "field 'compression' is 'gzip' but the file name ends in .sql.zst",
        ])
        #expect(listing.entries.map { $0.json["compression"] } == [
            .string("zstd"), .string("zstd"), .string("gzip"), .string("gzip"), nil, nil,
        ])
        #expect(try BackupStore(directory: dir.path).metadata(zstd.filename) == zstd)
    }

    @Test("metadata(name): complete, unknown, sidecar-less")
    func metadataLookup() throws {
        let dir = try TemporaryDirectory()
        let store = BackupStore(directory: dir.path)
        let good = Self.metadata("backup_db_20260129_120000.sql.gz", hoursAgo: 1)
        try Self.addBackup(dir, good)
        try Self.addBackup(dir, Self.metadata("backup_db_20260129_130000.sql.gz", hoursAgo: 0), sidecar: false)
        #expect(try store.metadata(good.filename) == good)
        #expect(throws: BackupError.notFound("backup_db_20200101_000000.sql.gz")) {
            try store.metadata("backup_db_20200101_000000.sql.gz")
        }
        #expect(throws: BackupError.verificationFailed(
            name: "backup_db_20260129_130000.sql.gz", reason: "it has no metadata file (an incomplete backup)")) {
            try store.metadata("backup_db_20260129_130000.sql.gz")
        }
    }

    @Test("isTaken sees dumps, sidecars and partial files")
    func isTaken() throws {
        let dir = try TemporaryDirectory()
        let store = BackupStore(directory: dir.path)
        try store.prepare()
        try dir.write("backup_db_20260129_120000.sql.gz", [1])
        try dir.write("backup_db_20260129_120001.sql.gz.json", "{}")
        try dir.write(".partial/backup_db_20260129_120002.sql.gz", [1])
        #expect(store.isTaken("backup_db_20260129_120000.sql.gz"))
        #expect(store.isTaken("backup_db_20260129_120001.sql.gz"))
        #expect(store.isTaken("backup_db_20260129_120002.sql.gz"))
        #expect(!store.isTaken("backup_db_20260129_120003.sql.gz"))
    }

    @Test("taking the lock creates the directory 0700 and removes stale partial files")
    func lockPreparesDirectory() throws {
        let dir = try TemporaryDirectory()
        let store = BackupStore(directory: dir.file("backups/nested"))
        try FileManager.default.createDirectory(atPath: dir.file("backups/nested/.partial"), withIntermediateDirectories: true)
        try dir.write("backups/nested/.partial/backup_db_20260129_120000.sql.gz", [1, 2, 3])
        let lock = try store.lock("create", now: Self.base)
        withExtendedLifetime(lock) {
            var info = stat()
            #expect(stat(store.directory, &info) == 0)
            #expect(info.st_mode & 0o777 == 0o700)
            #expect((try? FileSystem.list(store.partialDirectory)) == [])
            #expect(store.lockHolder?.operation == "create")
        }
    }
}
