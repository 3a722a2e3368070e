import Foundation
import TestSupport
import Testing

/// zstd backups end to end, a directory holding both codecs, and the old tool's gzip files, against the real
/// PostgreSQL: every operation reads a backup with its own codec, whatever BACKUP_COMPRESSION says now.
@Suite("CLI and API: zstd and gzip backups side by side", .serialized, .postgresCluster)
final class CodecRoundTripTests {
    let ctx: CLITestContext
    static let zstd = ["BACKUP_COMPRESSION": "zstd"]

    init() throws { ctx = try CLITestContext() }
    deinit { ctx.remove() }

    static func zstdDecode(_ url: URL) throws -> Data {
        let result = try ProcessRunner.run(try ProcessRunner.tool("zstd"), ["-dc", "-q", url.path])
        guard result.status == 0 else { throw HarnessError.commandFailed("zstd -dc \(url.path)", result) }
        return result.stdout
    }

    @Test func zstdBackupCreatesListsVerifiesRestoresAndDownloads() throws {
        let db = try ctx.sampleDatabase("zstdround")
        let dumpBefore = try ctx.cluster.normalisedDump(db)
        let factsBefore = try DatabaseFacts.read(db, on: ctx.cluster)

        let name = try ctx.create(db, description: "zstd", env: Self.zstd)
        #expect(name.hasSuffix(".sql.zst"), "\(name)")
        let sidecar = try ctx.sidecar(name)
        #expect(sidecar["compression"] as? String == "zstd")
        let zstdTest = try ProcessRunner.run(try ProcessRunner.tool("zstd"), ["-t", "-q", ctx.backupURL(name).path])
        #expect(zstdTest.status == 0, "zstd -t: \(zstdTest)")
        #expect(String(decoding: try Self.zstdDecode(ctx.backupURL(name)), as: UTF8.self)
            .contains("-- PostgreSQL database dump complete"))

        let listing = try ctx.list(db)
        #expect(listing.compactMap { $0["filename"] as? String } == [name])
        #expect(listing.first?["compression"] as? String == "zstd")

        // Verified with the file's codec even where the configured one is gzip.
        let verify = try ctx.pgbackup(["verify", name, "--json"], database: db)
        try #require(verify.status == 0, "\(verify)")
        #expect(try JSON.object(verify.stdout)["checks"] as? [String] == ["sha256", "zstd_checksum", "dump_trailer"])
        let human = try ctx.pgbackup(["verify", name], database: db)
        #expect(human.out.contains("sha256, zstd frame checksum, dump trailer"), "\(human.out)")

        try ctx.cluster.psql(CLIRoundTripTests.changes, database: db)
        let restore = try ctx.pgbackup(["restore", name, "--yes", "--json"], database: db, env: Self.zstd)
        try #require(restore.status == 0, "\(restore)")
        let safety = try #require(try JSON.object(restore.stdout)["safety_backup"] as? [String: Any])
        let safetyName = try #require(safety["filename"] as? String)
        #expect(safetyName.hasSuffix(".sql.zst"), "the safety backup uses the configured codec: \(safetyName)")
        #expect(try DatabaseFacts.read(db, on: ctx.cluster) == factsBefore)
        DumpComparison.expectEqual(dumpBefore, try ctx.cluster.normalisedDump(db), "zstd restore vs before create")

        let stack = try NginxStack(cluster: ctx.cluster, database: db, settings: ["BACKUP_DIR": ctx.backupDir.path])
        defer { stack.stop() }
        let file = stack.scratch.appending("downloaded.sql.zst")
        let download = try stack.request("GET", "/api/backups/download/\(name)", saveBodyTo: file)
        #expect(download.status == 200)
        #expect(download.header("Content-Type") == "application/zstd")
        #expect(download.header("X-Content-SHA256") == sidecar["sha256"] as? String)
        #expect(try BackupFiles.sha256(file) == sidecar["sha256"] as? String)
        #expect(String(decoding: try Self.zstdDecode(file), as: UTF8.self).contains(SampleSchema.canaryValue))

        // `zstd -dc FILE | psql`, as the README says, with no pgbackup involved.
        let fresh = try ctx.emptyDatabase("zstd_fresh")
        let psql = try ctx.cluster.psqlScript(try Self.zstdDecode(ctx.backupURL(name)), database: fresh)
        try #require(psql.status == 0, "\(psql)")
        DumpComparison.expectEqual(dumpBefore, try ctx.cluster.normalisedDump(fresh), "zstd -dc | psql")
    }

    @Test func aDirectoryWithBothCodecsListsExpiresAndRestoresBoth() throws {
        let db = try ctx.sampleDatabase("mixedcodecs")
        let gzipState = try ctx.cluster.normalisedDump(db)
        let gzip = try ctx.create(db, description: "gzip")
        try ctx.cluster.psql("UPDATE canary SET value = 'zstd state'", database: db)
        let zstdState = try ctx.cluster.normalisedDump(db)
        let zstd = try ctx.create(db, description: "zstd", env: Self.zstd)
        #expect(gzip.hasSuffix(".sql.gz") && zstd.hasSuffix(".sql.zst"))
        #expect(Set(try ctx.list(db).compactMap { $0["filename"] as? String }) == [gzip, zstd])

        // Each restores to its own state, whichever codec is configured at the time.
        for (name, state, env) in [(gzip, gzipState, Self.zstd), (zstd, zstdState, [:]), (gzip, gzipState, [:])] {
            let restore = try ctx.pgbackup(["restore", name, "--yes", "--no-safety-backup"], database: db, env: env)
            try #require(restore.status == 0, "\(name) with \(env): \(restore)")
            DumpComparison.expectEqual(state, try ctx.cluster.normalisedDump(db), "\(name) restored with \(env)")
        }

        // Retention expires old backups of both codecs and keeps the young ones of both.
        let oldZstd = try ctx.backdate(zstd, database: db, hours: 24 * 20)
        let oldGzip = try ctx.backdate(gzip, database: db, hours: 24 * 21)
        let youngGzip = try ctx.create(db, description: "young gzip")
        let youngZstd = try ctx.create(db, description: "young zstd", env: Self.zstd)
        let retention = ["BACKUP_RETENTION_DAYS": "7", "BACKUP_MAX_COUNT": "2"]
        let cleanup = try ctx.pgbackup(["cleanup", "--json"], database: db, env: retention)
        try #require(cleanup.status == 0, "\(cleanup)")
        #expect(Set(try JSON.object(cleanup.stdout)["deleted"] as? [String] ?? []) == [oldZstd, oldGzip])
        #expect(ctx.dumpFiles() == [youngGzip, youngZstd].sorted())
        #expect(JSON.int(try ctx.status(db)["total_backups"]) == 2)
    }

    @Test func theOldToolsSingleMemberGzipVerifiesAndRestoresWhileZstdIsConfigured() throws {
        let source = try ctx.sampleDatabase("oldgzip")
        let sourceDump = try ctx.cluster.normalisedDump(source)
        let oldName = try BackupFiles.writeOldToolBackup(
            dump: Data(try ctx.cluster.dump(source).utf8), database: source, timestamp: "20260129_120000",
            createdAt: "2026-01-29T12:00:00.123456", description: "gzip -6, the old tool's shape", in: ctx.backupDir)
        let verify = try ctx.pgbackup(["verify", oldName, "--json"], database: source, env: Self.zstd)
        try #require(verify.status == 0, "\(verify)")
        #expect(try JSON.object(verify.stdout)["checks"] as? [String] == ["gzip_crc", "dump_trailer"])
        let target = try ctx.emptyDatabase("oldgzip_target")
        let restore = try ctx.pgbackup(["restore", oldName, "--target-db", target, "--yes", "--no-safety-backup"],
                                       database: source, env: Self.zstd)
        try #require(restore.status == 0, "\(restore)")
        DumpComparison.expectEqual(sourceDump, try ctx.cluster.normalisedDump(target), "old-tool gzip restored")
    }
}
