import BackupAPI
import BackupCore
import Foundation
import Testing

/// A backup directory holding gzip and zstd backups, through the router: list, metadata, delete, cleanup and
/// names. (Reading a zstd file — verify, restore, download — comes with the codec's wiring into the pipeline.)
@Suite("Router: gzip and zstd backups side by side")
struct MixedCodecTests {
    /// A zstd backup as it sits on disk: a file named `….sql.zst` (its bytes are not read here) and its sidecar.
    @discardableResult
    static func makeZstdBackup(_ fixture: RouterFixture, ageHours: Double, suffix: String = "") throws -> BackupMetadata {
        let created = RouterFixture.now.addingTimeInterval(-ageHours * 3600)
        let name = "backup_appdb_\(Timestamp.compact(created))\(suffix).sql.zst"
        let bytes: [UInt8] = [0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]
        try Data(bytes).write(to: URL(fileURLWithPath: fixture.path(name)))
        let metadata = BackupMetadata(
            filename: name, createdAt: created, database: "appdb", sizeBytes: Int64(bytes.count),
            description: "zstd backup", sha256: String(repeating: "0", count: 64), kind: .manual, formatVersion: 1,
            compression: .zstd)
        try fixture.writeSidecar(metadata)
        return metadata
    }

    @Test("list shows both kinds newest first, each with its compression")
    func listBoth() throws {
        let fixture = try RouterFixture()
        let gzip = try fixture.makeBackup(ageHours: 2)
        let zstd = try Self.makeZstdBackup(fixture, ageHours: 1)
        let oldTool = try fixture.makeBackup(ageHours: 3, kind: nil, recordChecksum: false)
        let response = fixture.handle("GET", "/api/backups")
        #expect(response.status == 200)
        guard case let .array(items) = try response.jsonBody else { Issue.record("not an array"); return }
        #expect(items.map { $0["filename"]?.stringValue } == [zstd.filename, gzip.filename, oldTool.filename])
        #expect(items.map { $0["compression"] } == [.string("zstd"), .string("gzip"), .string("gzip")])
        #expect(items.allSatisfy { $0["compressed"] == .bool(true) })
    }

    @Test("a zstd backup's metadata is served by name, and status counts both kinds")
    func metadataAndStatus() throws {
        let fixture = try RouterFixture()
        let gzip = try fixture.makeBackup(ageHours: 2)
        let zstd = try Self.makeZstdBackup(fixture, ageHours: 1)
        let response = fixture.handle("GET", "/api/backups/\(zstd.filename)")
        #expect(response.status == 200)
        #expect(try response.jsonBody["compression"] == .string("zstd"))
        #expect(try response.jsonBody["filename"] == .string(zstd.filename))
        let status = try fixture.handle("GET", "/api/backups/status").jsonBody
        #expect(status["total_backups"] == .int(2))
        #expect(status["total_size_bytes"] == .int(gzip.sizeBytes + zstd.sizeBytes))
        #expect(status["last_backup"]?["filename"] == .string(zstd.filename))
    }

    @Test("names with a zstd-like but wrong suffix are refused before they touch the directory",
          arguments: ["backup_appdb_20260101_120000.sql.zstd", "backup_appdb_20260101_120000.zst",
                      "backup_appdb_20260101_120000.sql.zst.json"])
    func wrongSuffixRefused(name: String) throws {
        let fixture = try RouterFixture()
        try fixture.handle("GET", "/api/backups/\(name)").expectError(400, "invalid_input")
        try fixture.handle("DELETE", "/api/backups/\(name)").expectError(400, "invalid_input")
    }

    @Test("delete removes a zstd backup and its sidecar")
    func deleteZstd() throws {
        let fixture = try RouterFixture()
        let gzip = try fixture.makeBackup(ageHours: 2)
        let zstd = try Self.makeZstdBackup(fixture, ageHours: 1)
        #expect(fixture.handle("DELETE", "/api/backups/\(zstd.filename)").status == 200)
        #expect(fixture.names() == [gzip.filename, gzip.filename + ".json"])
        try fixture.handle("DELETE", "/api/backups/\(zstd.filename)").expectError(404, "not_found")
    }

    @Test("cleanup counts and expires gzip and zstd backups as one series")
    func cleanupBoth() throws {
        let fixture = try RouterFixture(maxCount: 2, retentionDays: 1)
        let young = try Self.makeZstdBackup(fixture, ageHours: 1)
        let youngToo = try fixture.makeBackup(ageHours: 20)
        let oldGzip = try fixture.makeBackup(ageHours: 30)
        let oldZstd = try Self.makeZstdBackup(fixture, ageHours: 100)
        let answer = try fixture.handle("POST", "/api/backups/cleanup").jsonBody
        #expect(answer["deleted"] == .array([.string(oldGzip.filename), .string(oldZstd.filename)]))
        #expect(answer["kept"] == .int(2))
        #expect(fixture.names() == [young.filename, young.filename + ".json", youngToo.filename,
                                    youngToo.filename + ".json"].sorted())
    }
}
