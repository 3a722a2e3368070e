import BackupAPI
@testable import BackupCore
import Foundation
import Logging
import TestSupport
import Testing

/// A router over a fresh temp BACKUP_DIR, with hand-made backups and no PostgreSQL. The configured database
/// points at a port nothing listens on, so a test that reached pg_dump or psql by mistake would fail loudly.
final class RouterFixture: @unchecked Sendable {
    static let now = Date(timeIntervalSince1970: 1_780_000_000)  // 2026-05-28T20:26:40Z
    private let scratch: TemporaryDirectory
    let directory: String
    let router: Router
    let manager: BackupManager

    /// - Parameters:
    ///   - maxCount, retentionDays: the retention settings cleanup applies.
    ///   - jobExecutable: what an async request starts; `/bin/true` runs nothing and exits at once.
    init(maxCount: Int = 30, retentionDays: Int = 7, jobExecutable: String = "/bin/true",
         operators: Operators = .users(["alice", "carol"])) throws {
        scratch = try TemporaryDirectory(prefix: "apitest")
        let root = scratch.path
        directory = root + "/backups"
        let configuration = Configuration(
            backupDirectory: directory, retentionDays: retentionDays, maxCount: maxCount, intervalHours: 24,
            postgres: PostgresConnection(host: root + "/no-server", port: 1, database: "appdb", user: "nobody"),
            operators: operators)
        let logger = Logger(label: "router-test", factory: { _ in SwiftLogNoOpLogHandler() })
        manager = BackupManager(configuration: configuration, logger: logger, clock: FixedTimeSource(Self.now),
                                environment: ["PATH": "/usr/bin:/bin"])
        router = Router(manager: manager, jobs: JobRunner(manager: manager, executable: jobExecutable), logger: logger)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    // MARK: requests

    func handle(_ method: String, _ uri: String, json body: String? = nil, contentType: String? = "application/json",
                prefer: String? = nil, user: String? = "alice") -> APIResponse {
        router.handle(APIRequest(method: method, uri: uri, contentType: body == nil ? nil : contentType,
                                 body: Array((body ?? "").utf8), prefer: prefer, remoteUser: user))
    }

    /// A request built by the test; without a user it comes from the operator alice (roles have tests of their own).
    func handle(_ request: APIRequest) -> APIResponse {
        var request = request
        if request.remoteUser == nil { request.remoteUser = "alice" }
        return router.handle(request)
    }

    // MARK: backups on disk

    /// A plain-dump-shaped text that passes the trailer check.
    static func dumpText(_ marker: String) -> String {
        """
        --
        -- PostgreSQL database dump
        --

        SET statement_timeout = 0;
        CREATE TABLE marker (value text);
        COPY marker (value) FROM stdin;
        \(marker)
        \\.

        --
        -- PostgreSQL database dump complete
        --


        """
    }

    /// Writes a complete backup: gzip via BackupCore's encoder, then its sidecar. With `recordChecksum` the
    /// sidecar carries sha256 and uncompressed_bytes as pgbackup writes them; without, it looks like the old tool's.
    @discardableResult
    func makeBackup(database: String = "appdb", ageHours: Double, description: String = "test backup",
                    kind: BackupKind? = .manual, recordChecksum: Bool = true, dump: String? = nil,
                    suffix: String = "") throws -> BackupMetadata {
        try makeBackup(database: database, created: Self.now.addingTimeInterval(-ageHours * 3600),
                       description: description, kind: kind, recordChecksum: recordChecksum, dump: dump, suffix: suffix)
    }

    @discardableResult
    func makeBackup(database: String = "appdb", created: Date, description: String = "test backup",
                    kind: BackupKind? = .manual, recordChecksum: Bool = true, dump: String? = nil,
                    suffix: String = "") throws -> BackupMetadata {
        let name = "backup_\(database)_\(Timestamp.compact(created))\(suffix).sql.gz"
        let text = dump ?? Self.dumpText("row of \(name)")
        let bytes = try Self.gzip(Array(text.utf8))
        try Data(bytes).write(to: URL(fileURLWithPath: path(name)))
        var metadata = BackupMetadata(filename: name, createdAt: created, database: database,
                                      sizeBytes: Int64(bytes.count), description: description, kind: kind)
        try writeSidecar(metadata)
        if recordChecksum {
            // The old tool's sidecar verifies by CRC + trailer; its report gives the digest to record.
            let report = try manager.verify(name)
            metadata.sha256 = report.sha256
            metadata.uncompressedBytes = Int64(text.utf8.count)
            metadata.durationSeconds = 0.5
            metadata.pgDumpVersion = "15.18"
            metadata.serverVersion = "15.18"
            metadata.formatVersion = 1
            try writeSidecar(metadata)
        }
        return metadata
    }

    func writeSidecar(_ metadata: BackupMetadata) throws {
        try Data((metadata.json.serialized(pretty: true) + "\n").utf8)
            .write(to: URL(fileURLWithPath: path(metadata.filename + ".json")))
    }

    static func gzip(_ input: [UInt8]) throws -> [UInt8] {
        let collected = MemorySink()
        let encoder = try Codec.gzip.encoder(level: 6, next: collected)
        try input.withUnsafeBytes { try encoder.write($0) }
        try encoder.finish()
        return collected.bytes
    }

    func path(_ name: String) -> String { "\(directory)/\(name)" }

    func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: path(name)) }

    /// Visible names in BACKUP_DIR, sorted.
    func names() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    /// Holds BACKUP_DIR's lock as another process would, until the returned descriptor is closed. pgbackup's lock
    /// is an open-file-description lock (`F_OFD_SETLK`, 37 on Linux; Glibc's module does not export the name),
    /// so a second open() of the file, even in this process, sees it held.
    func holdLock(operation: String) throws -> Int32 {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let fd = open(path(".lock"), O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        var lock = flock()
        lock.l_type = Int16(F_WRLCK)
        lock.l_whence = Int16(SEEK_SET)
        guard fd >= 0, fcntl(fd, 37, &lock) == 0 else { throw HarnessError.setup("cannot take the lock: errno \(errno)") }
        let holder = #"{"operation":"\#(operation)","since":"2026-05-28T20:00:00.000000Z","pid":\#(getpid())}"#
        _ = Array(holder.utf8).withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        return fd
    }
}

extension APIResponse {
    /// The JSON body; a non-JSON body is a test failure.
    var jsonBody: JSON {
        get throws {
            switch body {
            case .json, .rawJSON: return try JSON.parse(bodyBytes)
            case let .gzipJSON(compressed): return try JSON.parse(try Self.gunzip(compressed))
            case .download, .empty, .text: throw HarnessError.setup("the response body is not JSON (status \(status))")
            }
        }
    }

    static func gunzip(_ compressed: [UInt8]) throws -> [UInt8] {
        var plain: [UInt8] = []
        let decoder = try GzipDecoder()
        try compressed.withUnsafeBytes { try decoder.feed($0) { plain.append(contentsOf: $0) } }
        try decoder.finish()
        return plain
    }

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    /// Asserts the API's error shape: exactly `success: false`, a code, a one-sentence detail (409 adds `running`).
    func expectError(_ status: Int, _ code: String, detailContains: String? = nil,
                     sourceLocation: SourceLocation = #_sourceLocation) throws {
        guard self.status == status else {
            // One issue with the whole answer is more useful than one per field.
            let shown = (try? jsonBody.serialized()) ?? "(not JSON)"
            Issue.record("expected \(status) \(code), got \(self.status): \(shown.prefix(500))", sourceLocation: sourceLocation)
            return
        }
        #expect(header("Content-Type") == "application/json", sourceLocation: sourceLocation)
        let json = try jsonBody
        guard case let .object(fields) = json else {
            Issue.record("error body is not an object: \(json.serialized())", sourceLocation: sourceLocation)
            return
        }
        let keys = fields.map(\.0)
        let expectedKeys = status == 409 ? ["success", "error", "detail", "running"] : ["success", "error", "detail"]
        #expect(keys == expectedKeys, "keys of \(json.serialized())", sourceLocation: sourceLocation)
        #expect(json["success"] == .bool(false), sourceLocation: sourceLocation)
        #expect(json["error"] == .string(code), "error code in \(json.serialized())", sourceLocation: sourceLocation)
        let detail = json["detail"]?.stringValue ?? ""
        #expect(!detail.isEmpty && !detail.contains("\n"), "detail: \(detail)", sourceLocation: sourceLocation)
        if let detailContains {
            #expect(detail.contains(detailContains), "detail '\(detail)' lacks '\(detailContains)'",
                    sourceLocation: sourceLocation)
        }
    }
}
