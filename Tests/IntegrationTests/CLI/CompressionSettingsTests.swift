import Foundation
import TestSupport
import Testing

/// `BACKUP_COMPRESSION` and its level, read by the real binaries: a bad setting stops each of them at startup, a
/// good one shows in `status`, and a directory holding gzip and zstd backups lists both.
@Suite("CLI, scheduler, responder: compression settings", .serialized, .postgresCluster)
final class CompressionSettingsTests {
    let ctx: CLITestContext

    init() throws { ctx = try CLITestContext() }
    deinit { ctx.remove() }

    func dumpFiles() -> [String] { ctx.dumpFiles() }

    /// (settings, the variable to be named, its value as shown)
    static let badSettings: [([String: String], String, String)] = [
        (["BACKUP_COMPRESSION": "lz4"], "BACKUP_COMPRESSION", "lz4"),
        (["BACKUP_COMPRESSION": "zstd", "BACKUP_COMPRESSION_LEVEL": "22"], "BACKUP_COMPRESSION_LEVEL", "22"),
        (["BACKUP_COMPRESSION": "gzip", "BACKUP_COMPRESSION_LEVEL": "12"], "BACKUP_COMPRESSION_LEVEL", "12"),
        (["BACKUP_COMPRESSION_LEVEL": "12"], "BACKUP_COMPRESSION_LEVEL", "12"),
    ]

    @Test(arguments: badSettings)
    func badCompressionStopsEveryBinaryAtStartup(_ settings: [String: String], _ variable: String, _ value: String) throws {
        let db = try ctx.emptyDatabase("badcodec")
        let what = settings.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let message = "invalid value '\(value)' for \(variable)"
        for command in [["status"], ["list"], ["create"]] {
            let cli = try ctx.pgbackup(command, database: db, env: settings)
            #expect(cli.status == 2, "pgbackup \(command) with \(what): \(cli)")
            #expect(cli.err.contains(message), "pgbackup \(command) with \(what): \(cli.err)")
        }
        let scheduler = try ProcessRunner.run(
            try Binaries.path("pgbackup-scheduler"), [], environment: ctx.environment(database: db, extra: settings),
            timeout: .seconds(60))
        #expect(scheduler.status == 2, "scheduler with \(what): \(scheduler)")
        #expect(scheduler.err.contains(message), "scheduler with \(what): \(scheduler.err)")

        let socket = ctx.scratch.appending("fcgi.sock").path
        let responder = try ProcessRunner.run(
            try Binaries.path("pgbackup-fcgi"), ["--socket", socket],
            environment: ctx.environment(database: db, extra: settings), timeout: .seconds(20))
        #expect(responder.status != 0 && !responder.timedOut, "responder with \(what): \(responder)")
        #expect(responder.err.contains(message), "responder with \(what): \(responder.err)")
        #expect(!FileManager.default.fileExists(atPath: socket), "the responder bound its socket before failing")
        #expect(dumpFiles().isEmpty)
    }

    @Test func statusShowsTheCodecAndItsLevel() throws {
        let db = try ctx.emptyDatabase("codecstatus")
        let cases: [([String: String], String, Int)] = [
            ([:], "gzip", 6), (["BACKUP_COMPRESSION": "zstd"], "zstd", 3),
            (["BACKUP_COMPRESSION": "zstd", "BACKUP_COMPRESSION_LEVEL": "19"], "zstd", 19),
            (["BACKUP_COMPRESSION_LEVEL": "1"], "gzip", 1),
        ]
        for (settings, codec, level) in cases {
            let status = try ctx.status(db, env: settings)
            #expect(status["compression"] as? String == codec, "\(settings)")
            #expect(JSON.int(status["compression_level"]) == level, "\(settings)")
            let human = try ctx.pgbackup(["status"], database: db, env: settings)
            #expect(human.status == 0, "\(human)")
            #expect(human.out.contains("Compression:        \(codec) level \(level)"), "\(human.out)")
            let warnings = try ctx.pgbackup(["list"], database: db, env: settings)
            #expect(!warnings.err.contains("unknown setting"), "\(warnings.err)")
        }
    }

    @Test func aDirectoryWithGzipAndZstdBackupsListsAndDeletesBoth() throws {
        let db = try ctx.sampleDatabase("mixed")
        let gzip = try ctx.create(db, description: "gzip")
        // A zstd backup of the same dump, as the zstd codec will write it: the file and a sidecar saying so.
        let zstd = gzip.replacingOccurrences(of: ".sql.gz", with: "_2.sql.zst")
        let plain = try BackupFiles.gunzip(ctx.backupURL(gzip))
        let compressed = try ProcessRunner.run(
            try ProcessRunner.tool("zstd"), ["-3", "-q", "-c"], stdin: plain, timeout: .seconds(60))
        try #require(compressed.status == 0, "\(compressed)")
        try compressed.stdout.write(to: ctx.backupURL(zstd))
        var sidecar = try ctx.sidecar(gzip)
        sidecar["filename"] = zstd
        sidecar["compression"] = "zstd"
        sidecar["size_bytes"] = compressed.stdout.count
        sidecar["description"] = "zstd"
        sidecar["sha256"] = try BackupFiles.sha256(ctx.backupURL(zstd))
        try JSON.write(sidecar, to: ctx.sidecarURL(zstd))
        #expect(try ctx.sidecar(gzip)["compression"] as? String == "gzip", "every new sidecar records its codec")

        let listing = try ctx.list(db)
        #expect(listing.compactMap { $0["filename"] as? String } == [zstd, gzip])
        #expect(listing.compactMap { $0["compression"] as? String } == ["zstd", "gzip"])
        let table = try ctx.pgbackup(["list"], database: db)
        #expect(table.out.contains(zstd) && table.out.contains(gzip), "\(table.out)")
        #expect(table.out.contains("Available Backups (2)"), "\(table.out)")
        #expect(JSON.int(try ctx.status(db)["total_backups"]) == 2)

        let deleted = try ctx.pgbackup(["delete", zstd, "--yes"], database: db)
        #expect(deleted.status == 0, "\(deleted)")
        #expect(dumpFiles() == [gzip])
        #expect(!FileManager.default.fileExists(atPath: ctx.sidecarURL(zstd).path))
    }
}
