import BackupAPI
import BackupCore
import Foundation
import Testing

/// list, status, info, download, verify, delete and cleanup through the router over hand-made backups.
@Suite("Backup operations through the router")
struct BackupOperationsTests {
    @Test("list: newest first, the old tool's fields then pgbackup's, old-tool backups marked unverified")
    func list() throws {
        let fixture = try RouterFixture()
        let old = try fixture.makeBackup(ageHours: 30, description: "old tool made", kind: nil, recordChecksum: false)
        let new = try fixture.makeBackup(ageHours: 1, description: "Before upgrade ✓")
        let middle = try fixture.makeBackup(ageHours: 5, description: "Automated scheduled backup", kind: .scheduled)

        let response = fixture.handle("GET", "/api/backups")
        #expect(response.status == 200)
        #expect(response.header("Content-Type") == "application/json")
        guard case let .array(items) = try response.jsonBody else { Issue.record("not an array"); return }
        #expect(items.map { $0["filename"]?.stringValue } == [new.filename, middle.filename, old.filename])
        guard case let .object(fields) = items[0] else { Issue.record("not an object"); return }
        #expect(fields.map(\.0) == [
            "filename", "timestamp", "created_at", "database", "size_bytes", "size_mb", "description", "compressed",
            "sha256", "uncompressed_bytes", "duration_seconds", "kind", "pg_dump_version", "server_version",
            "format_version", "compression", "verified",
        ])
        #expect(items[0]["description"] == .string("Before upgrade ✓"))
        #expect(items[0]["created_at"] == .string(Timestamp.iso8601(new.createdAt)))
        #expect(items[0]["size_bytes"] == .int(new.sizeBytes))
        #expect(items[0]["verified"] == .bool(true))
        #expect(items[0]["sha256"]?.stringValue?.count == 64)
        #expect(items[1]["kind"] == .string("scheduled"))
        #expect(items[2]["verified"] == .bool(false))
        #expect(items[2]["sha256"] == .null)
        #expect(items[2]["kind"] == .null)
    }

    @Test("Accept-Encoding: gzip is honoured by weight, and refused gzip wins over a wildcard",
          arguments: [
              ("gzip", true), ("gzip, deflate, br", true), ("deflate, GZIP;q=0.5", true), ("x-gzip", true),
              ("*", true), ("br;q=1, *;q=0.1", true), (nil, false), ("", false), ("identity", false),
              ("deflate, br", false), ("gzip;q=0", false), ("gzip; q=0.000", false), ("*;q=0", false),
              ("gzip;q=0, *", false), ("*, gzip;q=0", false), ("gzipx", false), ("x-gzip;q=0, gzip", true),
              ("gzip;q=0, x-gzip;q=0", false),
          ] as [(String?, Bool)])
    func acceptEncoding(header: String?, accepted: Bool) {
        #expect(APIRequest(method: "GET", uri: "/api/backups", acceptEncoding: header).acceptsGzip == accepted)
    }

    @Test("list with Accept-Encoding: gzip is the same JSON, gzip-encoded, and says so")
    func gzipList() throws {
        let fixture = try RouterFixture()
        for hours in [1.0, 2, 3] { _ = try fixture.makeBackup(ageHours: hours) }
        let plain = fixture.handle("GET", "/api/backups")
        let compressed = fixture.handle(APIRequest(method: "GET", uri: "/api/backups", acceptEncoding: "gzip, deflate, br"))
        #expect(compressed.status == 200)
        #expect(compressed.header("Content-Encoding") == "gzip")
        #expect(compressed.header("Vary") == "Accept-Encoding")
        #expect(plain.header("Content-Encoding") == nil)
        #expect(plain.header("Vary") == "Accept-Encoding")
        guard case let .gzipJSON(bytes) = compressed.body else { Issue.record("not a gzip body"); return }
        #expect(try APIResponse.gunzip(bytes) == plain.bodyBytes)
        #expect(try compressed.jsonBody == plain.jsonBody)
    }

    @Test("list of an empty or missing directory is an empty array")
    func emptyList() throws {
        let fixture = try RouterFixture()
        try FileManager.default.removeItem(atPath: fixture.directory)
        let response = fixture.handle("GET", "/api/backups")
        #expect(response.status == 200)
        #expect(try response.jsonBody == .array([]))
    }

    @Test("a damaged sidecar is listed with an error; an orphan dump is reported by status, not listed")
    func damagedAndOrphan() throws {
        let fixture = try RouterFixture()
        let good = try fixture.makeBackup(ageHours: 1)
        let broken = try fixture.makeBackup(ageHours: 2)
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: fixture.path(broken.filename + ".json")))
        let orphan = try fixture.makeBackup(ageHours: 3)
        try FileManager.default.removeItem(atPath: fixture.path(orphan.filename + ".json"))

        let list = try fixture.handle("GET", "/api/backups").jsonBody
        guard case let .array(items) = list else { Issue.record("not an array"); return }
        #expect(items.count == 2)
        #expect(items[0]["filename"] == .string(good.filename))
        #expect(items[1]["filename"] == .string(broken.filename))
        #expect(items[1]["error"]?.stringValue?.contains("not valid JSON") == true)
        #expect(items[1]["verified"] == .bool(false))

        let status = try fixture.handle("GET", "/api/backups/status").jsonBody
        #expect(status["total_backups"] == .int(1))
        #expect(status["orphans"] == .array([.string(orphan.filename)]))
        guard case let .array(damaged)? = status["damaged"] else { Issue.record("no damaged array"); return }
        #expect(damaged.first?["filename"] == .string(broken.filename))

        // The damaged one is not servable.
        try fixture.handle("GET", "/api/backups/\(broken.filename)").expectError(422, "verification_failed")
        try fixture.handle("GET", "/api/backups/download/\(broken.filename)").expectError(422, "verification_failed")
        try fixture.handle("GET", "/api/backups/\(orphan.filename)")
            .expectError(422, "verification_failed", detailContains: "no metadata file")
    }

    @Test("status: the old tool's six fields first, then totals, last backup, health")
    func status() throws {
        let fixture = try RouterFixture(maxCount: 12, retentionDays: 3)
        let first = try fixture.makeBackup(ageHours: 10)
        let second = try fixture.makeBackup(ageHours: 2, kind: .scheduled)
        let response = fixture.handle("GET", "/api/backups/status")
        #expect(response.status == 200)
        let json = try response.jsonBody
        guard case let .object(fields) = json else { Issue.record("not an object"); return }
        #expect(Array(fields.map(\.0).prefix(6)) == [
            "enabled", "backup_directory", "retention_days", "max_backups", "interval_hours", "total_backups",
        ])
        #expect(json["enabled"] == .bool(true))
        #expect(json["backup_directory"] == .string(fixture.directory))
        #expect(json["retention_days"] == .int(3))
        #expect(json["max_backups"] == .int(12))
        #expect(json["interval_hours"] == .int(24))
        #expect(json["compression"] == .string("gzip"))
        #expect(json["compression_level"] == .int(6))
        #expect(json["restore_jobs"] == .int(Int64(Configuration.defaultRestoreJobs)))
        #expect(json["total_backups"] == .int(2))
        #expect(json["total_size_bytes"] == .int(first.sizeBytes + second.sizeBytes))
        #expect(json["last_backup"]?["filename"] == .string(second.filename))
        #expect(json["last_backup"]?["kind"] == .string("scheduled"))
        #expect(json["running"] == .null)
        #expect(json["last_failure"] == .null)
        #expect(json["healthy"] == .bool(true))
    }

    @Test("status reports who holds the lock")
    func statusRunning() throws {
        let fixture = try RouterFixture()
        let fd = try fixture.holdLock(operation: "create")
        defer { close(fd) }
        let json = try fixture.handle("GET", "/api/backups/status").jsonBody
        #expect(json["running"]?["operation"] == .string("create"))
        #expect(json["running"]?["pid"] == .int(Int64(getpid())))
    }

    @Test("info: one backup's listing object; unknown names are 404")
    func info() throws {
        let fixture = try RouterFixture()
        let backup = try fixture.makeBackup(ageHours: 1, description: "info me")
        let response = fixture.handle("GET", "/api/backups/\(backup.filename)")
        #expect(response.status == 200)
        #expect(try response.jsonBody == backup.listingJSON)
        try fixture.handle("GET", "/api/backups/backup_appdb_20200101_000000.sql.gz")
            .expectError(404, "not_found", detailContains: "backup_appdb_20200101_000000.sql.gz")
    }

    @Test("download: the file's bytes, its size, gzip type, attachment name and checksum header")
    func download() throws {
        let fixture = try RouterFixture()
        let backup = try fixture.makeBackup(ageHours: 1)
        let response = fixture.handle("GET", "/api/backups/download/\(backup.filename)")
        #expect(response.status == 200)
        #expect(response.header("Content-Type") == "application/gzip")
        #expect(response.header("Content-Disposition") == "attachment; filename=\"\(backup.filename)\"")
        #expect(response.header("X-Content-SHA256") == backup.sha256)
        guard case let .download(body) = response.body else { Issue.record("not a download body"); return }
        #expect(body.size == backup.sizeBytes)
        #expect(body.count == backup.sizeBytes)
        var bytes: [UInt8] = []
        try body.send { bytes.append(contentsOf: $0) }
        #expect(bytes == [UInt8](try Data(contentsOf: URL(fileURLWithPath: fixture.path(backup.filename)))))
    }

    @Test("HEAD download: headers and Content-Length, no body, no descriptor left open")
    func headDownload() throws {
        let fixture = try RouterFixture()
        let backup = try fixture.makeBackup(ageHours: 1)
        let response = fixture.handle("HEAD", "/api/backups/download/\(backup.filename)")
        #expect(response.status == 200)
        #expect(response.header("Content-Length") == String(backup.sizeBytes))
        #expect(response.header("Content-Type") == "application/gzip")
        guard case .empty = response.body else { Issue.record("HEAD has a body"); return }
        // Other tests open files concurrently, so count across many requests: a leak would show as hundreds.
        let openBefore = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
        for _ in 0..<300 { _ = fixture.handle("HEAD", "/api/backups/download/\(backup.filename)") }
        let openAfter = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
        #expect(openAfter - openBefore < 100, "\(openBefore) descriptors before, \(openAfter) after 300 HEADs")
    }

    @Test("a download of a file whose size is not the recorded one is 422 and sends no bytes",
          arguments: ["truncated", "grown", "old tool, truncated"])
    func downloadSizeMismatch(_ damage: String) throws {
        let fixture = try RouterFixture()
        let backup = try fixture.makeBackup(ageHours: 1, kind: damage.hasPrefix("old tool") ? nil : .manual,
                                            recordChecksum: !damage.hasPrefix("old tool"))
        let url = URL(fileURLWithPath: fixture.path(backup.filename))
        var bytes = [UInt8](try Data(contentsOf: url))
        if damage == "grown" { bytes += [0, 0, 0, 0] } else { bytes.removeLast(10) }
        try Data(bytes).write(to: url)
        let detail = "backup '\(backup.filename)' failed verification: the file's size (\(bytes.count) bytes) does not "
            + "match its record (\(backup.sizeBytes) bytes); run verify on it. Do not restore this backup; restore an "
            + "older one that verifies."
        for method in ["GET", "HEAD"] {
            let response = fixture.handle(method, "/api/backups/download/\(backup.filename)")
            #expect(response.status == 422, "\(method)")
            #expect(response.header("ETag") == nil && response.header("X-Content-SHA256") == nil, "\(method)")
            if method == "GET" {
                try response.expectError(422, "verification_failed")
                #expect(try response.jsonBody["detail"] == .string(detail))
            }
        }
        #expect(fixture.exists(backup.filename), "a refused download changes nothing")
    }

    @Test("an old-tool backup downloads without a checksum header")
    func downloadOldToolBackup() throws {
        let fixture = try RouterFixture()
        let backup = try fixture.makeBackup(ageHours: 1, kind: nil, recordChecksum: false)
        let response = fixture.handle("GET", "/api/backups/download/\(backup.filename)")
        #expect(response.status == 200)
        #expect(response.header("X-Content-SHA256") == nil)
    }

    @Test("verify: sha256, gzip CRCs and trailer checked")
    func verify() throws {
        let fixture = try RouterFixture()
        let backup = try fixture.makeBackup(ageHours: 1)
        let response = fixture.handle("POST", "/api/backups/\(backup.filename)/verify")
        #expect(response.status == 200)
        let json = try response.jsonBody
        #expect(json["success"] == .bool(true))
        #expect(json["verified"] == .bool(true))
        #expect(json["filename"] == .string(backup.filename))
        #expect(json["checks"] == .array([.string("sha256"), .string("gzip_crc"), .string("dump_trailer")]))
        #expect(json["sha256"] == backup.sha256.map(JSON.string))
        #expect(json["note"] == nil)
        // An empty JSON object is an acceptable body too.
        #expect(fixture.handle("POST", "/api/backups/\(backup.filename)/verify", json: "{}").status == 200)
    }

    @Test("verify of an old-tool backup says the checksum could not be checked")
    func verifyOldToolBackup() throws {
        let fixture = try RouterFixture()
        let backup = try fixture.makeBackup(ageHours: 1, kind: nil, recordChecksum: false)
        let json = try fixture.handle("POST", "/api/backups/\(backup.filename)/verify").jsonBody
        #expect(json["verified"] == .bool(true))
        #expect(json["checks"] == .array([.string("gzip_crc"), .string("dump_trailer")]))
        #expect(json["note"]?.stringValue?.contains("no checksum was recorded") == true)
    }

    @Test("verify fails with 422 saying what failed",
          arguments: ["flipped byte", "truncated", "no trailer"])
    func verifyFails(_ damage: String) throws {
        let fixture = try RouterFixture()
        var expected = ""
        let backup: BackupMetadata
        switch damage {
        case "no trailer":
            // Old-tool sidecar: the fixture learns the digest through verify, which this dump cannot pass.
            backup = try fixture.makeBackup(ageHours: 1, recordChecksum: false, dump: "CREATE TABLE t (a int);\n")
            expected = "completion line"
        default:
            backup = try fixture.makeBackup(ageHours: 1)
            let url = URL(fileURLWithPath: fixture.path(backup.filename))
            var bytes = [UInt8](try Data(contentsOf: url))
            if damage == "truncated" {
                bytes.removeLast(12)
            } else {
                bytes[bytes.count / 2] ^= 0x55
            }
            try Data(bytes).write(to: url)
            expected = "failed verification"
        }
        try fixture.handle("POST", "/api/backups/\(backup.filename)/verify")
            .expectError(422, "verification_failed", detailContains: expected)
        #expect(fixture.exists(backup.filename), "verify never deletes")
    }

    @Test("delete removes the dump and its sidecar; a second delete is 404")
    func delete() throws {
        let fixture = try RouterFixture()
        let keep = try fixture.makeBackup(ageHours: 2)
        let gone = try fixture.makeBackup(ageHours: 1)
        let response = fixture.handle("DELETE", "/api/backups/\(gone.filename)")
        #expect(response.status == 200)
        let json = try response.jsonBody
        #expect(json["success"] == .bool(true))
        #expect(json["message"]?.stringValue?.contains(gone.filename) == true)
        #expect(fixture.names() == [keep.filename, keep.filename + ".json"])
        try fixture.handle("DELETE", "/api/backups/\(gone.filename)").expectError(404, "not_found")
    }

    @Test("delete while another operation holds the lock is 409 naming it, and deletes nothing")
    func deleteBusy() throws {
        let fixture = try RouterFixture()
        let backup = try fixture.makeBackup(ageHours: 1)
        let fd = try fixture.holdLock(operation: "restore")
        defer { close(fd) }
        let response = fixture.handle("DELETE", "/api/backups/\(backup.filename)")
        try response.expectError(409, "operation_in_progress", detailContains: "restore")
        #expect(try response.jsonBody["running"]?["operation"] == .string("restore"))
        #expect(fixture.exists(backup.filename))
        try fixture.handle("POST", "/api/backups/cleanup").expectError(409, "operation_in_progress")
        try fixture.handle("POST", "/api/backups", json: "{}", prefer: "respond-async")
            .expectError(409, "operation_in_progress", detailContains: "restore")
    }

    @Test("cleanup keeps what is young OR among the newest max_backups, deletes the rest; dry_run deletes nothing")
    func cleanup() throws {
        let fixture = try RouterFixture(maxCount: 2, retentionDays: 1)
        let young = try fixture.makeBackup(ageHours: 1)
        let youngToo = try fixture.makeBackup(ageHours: 20)
        let old1 = try fixture.makeBackup(ageHours: 30)
        let old2 = try fixture.makeBackup(ageHours: 100)
        let orphan = try fixture.makeBackup(ageHours: 200)
        try FileManager.default.removeItem(atPath: fixture.path(orphan.filename + ".json"))

        let dry = fixture.handle("POST", "/api/backups/cleanup", json: #"{"dry_run": true}"#)
        #expect(dry.status == 200)
        let dryJSON = try dry.jsonBody
        #expect(dryJSON["dry_run"] == .bool(true))
        #expect(dryJSON["deleted"] == .array([.string(old1.filename), .string(old2.filename)]))
        #expect(dryJSON["kept"] == .int(2))
        #expect(fixture.exists(old1.filename) && fixture.exists(old2.filename))

        let real = try fixture.handle("POST", "/api/backups/cleanup").jsonBody
        #expect(real["success"] == .bool(true))
        #expect(real["dry_run"] == .bool(false))
        #expect(real["deleted"] == .array([.string(old1.filename), .string(old2.filename)]))
        #expect(real["kept"] == .int(2))
        #expect(fixture.names() == [young.filename, young.filename + ".json", youngToo.filename,
                                    youngToo.filename + ".json", orphan.filename].sorted())
    }
}
