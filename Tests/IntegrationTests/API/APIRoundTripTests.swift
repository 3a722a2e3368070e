import Foundation
import TestSupport
import Testing

/// The API end to end: nginx (TLS, basic auth) → pgbackup-fcgi → PostgreSQL with the sample schema. Backups
/// are checked from outside (gunzip, sha256sum) and restores by the data they bring back.
@Suite("API through nginx: backup, download and restore round trips", .serialized, .postgresCluster)
final class APIRoundTripTests {
    let cluster: PostgresCluster

    init() throws { cluster = try SharedCluster.require() }

    /// Changes a restore must undo.
    static let changes = #"""
        UPDATE canary SET value = 'changed through the API test';
        DELETE FROM orders WHERE id % 3 = 0;
        DROP VIEW customer_totals;
        DROP TABLE notes;
        INSERT INTO customers (name, email) SELECT 'late ' || g, 'late' || g || '@example.test' FROM generate_series(1, 99) g;
        """#

    func sampleDatabase(_ stem: String) throws -> String {
        let name = CLITestContext.uniqueName(stem)
        try cluster.createDatabase(name)
        try SampleSchema.load(into: name, on: cluster)
        return name
    }

    /// curl exactly as the Ops-Center backup guide writes it, pointed at the stack: https, `-k` for the self-signed
    /// certificate and `-u` for basic auth added; `-w` appends the status on its own line.
    func guideCurl(_ stack: NginxStack, _ arguments: [String]) throws -> (status: Int, body: String) {
        let result = try ProcessRunner.run(
            try ProcessRunner.tool("curl"),
            ["-sS", "-k", "-u", "\(stack.user):\(stack.password)", "-w", "\n%{http_code}"] + arguments)
        guard result.status == 0 else { throw HarnessError.commandFailed("curl \(arguments)", result) }
        let lines = result.out.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? -1, lines.dropLast().joined(separator: "\n"))
    }

    @Test("the Ops-Center backup guide's curl examples work verbatim over https with -u")
    func guideExamples() throws {
        let db = try sampleDatabase("unicorn_db")
        let stack = try NginxStack(cluster: cluster, database: db)
        defer { stack.stop() }
        let api = stack.baseURL + "/api/backups"
        let factsBefore = try DatabaseFacts.read(db, on: cluster)

        // Create Backup
        let created = try guideCurl(stack, ["-X", "POST", api, "-H", "Content-Type: application/json",
                                           "-d", #"{"description": "Manual backup before upgrade"}"#])
        #expect(created.status == 201, "\(created.body)")
        let createdJSON = try JSON.object(Data(created.body.utf8))
        #expect(createdJSON["success"] as? Bool == true)
        #expect(createdJSON["message"] as? String == "Backup created successfully")
        let backup = try #require(createdJSON["backup"] as? [String: Any])
        let name = try #require(backup["filename"] as? String)
        #expect(BackupName.isValid(name) && name.hasPrefix("backup_\(db)_"), "\(name)")
        #expect(backup["description"] as? String == "Manual backup before upgrade")
        for field in ["timestamp", "created_at", "size_mb"] { #expect(backup[field] != nil, "\(field)") }

        // The CI/CD example's pre-deployment backup.
        let ci = try guideCurl(stack, ["-X", "POST", api, "-H", "Content-Type: application/json",
                                      "-d", #"{"description": "Pre-deployment backup - Build 42"}"#])
        #expect(ci.status == 201, "\(ci.body)")

        // List Backups
        let list = try guideCurl(stack, [api])
        #expect(list.status == 200)
        let entries = try JSON.array(Data(list.body.utf8))
        #expect(entries.contains { $0["filename"] as? String == name })
        #expect(entries.first?["compressed"] as? Bool == true)

        // Get Status
        let status = try guideCurl(stack, [api + "/status"])
        #expect(status.status == 200)
        let statusJSON = try JSON.object(Data(status.body.utf8))
        #expect(JSON.int(statusJSON["total_backups"]) == entries.count)
        #expect(statusJSON["backup_directory"] as? String == stack.backupDir.path)
        #expect(statusJSON["enabled"] as? Bool == true)

        // Restore Backup (after a change, so the restore has something to undo)
        try cluster.psql(Self.changes, database: db)
        let restored = try guideCurl(stack, ["-X", "POST", api + "/restore", "-H", "Content-Type: application/json",
                                            "-d", #"{"backup_filename": "\#(name)"}"#])
        #expect(restored.status == 200, "\(restored.body)")
        let restoredJSON = try JSON.object(Data(restored.body.utf8))
        #expect(restoredJSON["success"] as? Bool == true)
        #expect((restoredJSON["safety_backup"] as? [String: Any])?["kind"] as? String == "pre-restore")
        #expect(try DatabaseFacts.read(db, on: cluster) == factsBefore)

        // Delete Backup
        let deleted = try guideCurl(stack, ["-X", "DELETE", api + "/" + name])
        #expect(deleted.status == 200, "\(deleted.body)")
        #expect(try JSON.object(Data(deleted.body.utf8))["success"] as? Bool == true)
        #expect(!FileManager.default.fileExists(atPath: stack.backupDir.appendingPathComponent(name).path))
        #expect(!FileManager.default.fileExists(atPath: stack.backupDir.appendingPathComponent(name + ".json").path))

        // Cleanup Old Backups
        let cleanup = try guideCurl(stack, ["-X", "POST", api + "/cleanup"])
        #expect(cleanup.status == 200, "\(cleanup.body)")
        let cleanupJSON = try JSON.object(Data(cleanup.body.utf8))
        #expect(cleanupJSON["success"] as? Bool == true)
        #expect((cleanupJSON["deleted"] as? [Any])?.isEmpty == true, "everything is younger than the retention")
    }

    @Test("create, list, download (gunzip -t, sha256 = sidecar), change the data, restore: the data is back")
    func downloadAndRestore() throws {
        let db = try sampleDatabase("apiround")
        let stack = try NginxStack(cluster: cluster, database: db)
        defer { stack.stop() }
        let factsBefore = try DatabaseFacts.read(db, on: cluster)
        let dumpBefore = try cluster.normalisedDump(db)
        #expect(factsBefore.rowCounts == SampleSchema.rowCounts)

        let created = try stack.post("/api/backups", json: #"{"description": "round trip ✓"}"#)
        #expect(created.status == 201, "\(created)")
        let name = try #require((try created.object()["backup"] as? [String: Any])?["filename"] as? String)
        let sidecar = try stack.sidecar(name)
        let recordedSHA = try #require(sidecar["sha256"] as? String)
        #expect(sidecar["description"] as? String == "round trip ✓")
        #expect(sidecar["kind"] as? String == "manual")

        let list = try stack.get("/api/backups")
        #expect(list.status == 200)
        let entry = try #require(try list.array().first { $0["filename"] as? String == name })
        #expect(entry["sha256"] as? String == recordedSHA)
        #expect(entry["verified"] as? Bool == true)
        #expect(JSON.int(entry["size_bytes"]) == JSON.int(sidecar["size_bytes"]))
        #expect(list.header("Vary") == "Accept-Encoding")
        #expect(list.header("Content-Encoding") == nil)

        // A client that takes gzip gets the same list compressed (nginx passes it through untouched).
        let compressedList = stack.scratch.appending("list.json.gz")
        let gzipped = try stack.request("GET", "/api/backups", headers: ["Accept-Encoding: gzip, deflate"],
                                        saveBodyTo: compressedList)
        #expect(gzipped.status == 200)
        #expect(gzipped.header("Content-Encoding") == "gzip")
        #expect(gzipped.header("Content-Length").flatMap(Int.init) == (try? FileTools.size(compressedList)))
        #expect(try BackupFiles.gunzip(compressedList) == list.body)

        let info = try stack.get("/api/backups/\(name)")
        #expect(info.status == 200)
        #expect(try info.object()["sha256"] as? String == recordedSHA)

        let file = stack.scratch.appending("downloaded.sql.gz")
        let download = try stack.request("GET", "/api/backups/download/\(name)", saveBodyTo: file)
        #expect(download.status == 200)
        #expect(download.header("Content-Type") == "application/gzip")
        #expect(download.header("Content-Disposition") == "attachment; filename=\"\(name)\"")
        #expect(download.header("X-Content-SHA256") == recordedSHA)
        #expect(download.header("Content-Length").flatMap(Int.init) == JSON.int(sidecar["size_bytes"]))
        #expect(try FileTools.size(file) == JSON.int(sidecar["size_bytes"]))
        #expect(try BackupFiles.gunzipTest(file).status == 0)
        #expect(try BackupFiles.sha256(file) == recordedSHA)
        let plain = String(decoding: try BackupFiles.gunzip(file), as: UTF8.self)
        #expect(plain.contains("-- PostgreSQL database dump complete"))
        #expect(plain.contains(SampleSchema.canaryValue))

        let head = try stack.request("HEAD", "/api/backups/download/\(name)")
        #expect(head.status == 200)
        #expect(head.header("Content-Length").flatMap(Int.init) == JSON.int(sidecar["size_bytes"]))

        let verify = try stack.post("/api/backups/\(name)/verify")
        #expect(verify.status == 200, "\(verify)")
        #expect(try verify.object()["checks"] as? [String] == ["sha256", "gzip_crc", "dump_trailer"])

        try cluster.psql(Self.changes, database: db)
        let changed = try DatabaseFacts.read(db, on: cluster)
        #expect(changed.canary == "changed through the API test")
        #expect(changed.rowCounts["notes"] == nil)

        let restore = try stack.post("/api/backups/restore", json: #"{"backup_filename": "\#(name)", "safety_backup": true}"#)
        #expect(restore.status == 200, "\(restore)")
        let result = try restore.object()
        #expect(result["backup_filename"] as? String == name)
        #expect(result["target_database"] as? String == db)
        let safety = try #require(result["safety_backup"] as? [String: Any])
        #expect(safety["kind"] as? String == "pre-restore")
        let safetyName = try #require(safety["filename"] as? String)
        #expect(safetyName != name)

        let factsAfter = try DatabaseFacts.read(db, on: cluster)
        #expect(factsAfter == factsBefore)
        #expect(factsAfter.canary == SampleSchema.canaryValue)
        let dumpAfter = try cluster.normalisedDump(db)
        #expect(dumpAfter == dumpBefore, "\(DumpComparison.shortDiff(dumpBefore, dumpAfter))")

        // The safety backup holds the changed state: it is a real, downloadable backup too.
        let safetyFile = stack.scratch.appending("safety.sql.gz")
        #expect(try stack.request("GET", "/api/backups/download/\(safetyName)", saveBodyTo: safetyFile).status == 200)
        #expect(String(decoding: try BackupFiles.gunzip(safetyFile), as: UTF8.self).contains("changed through the API test"))
    }

    @Test("Prefer: respond-async create and restore: 202 + Location, the job is polled to succeeded, the data is back")
    func asyncCreateAndRestore() throws {
        let db = try sampleDatabase("apiasync")
        let stack = try NginxStack(cluster: cluster, database: db)
        defer { stack.stop() }
        let factsBefore = try DatabaseFacts.read(db, on: cluster)

        let accepted = try stack.post("/api/backups", json: #"{"description": "async"}"#, headers: ["Prefer: respond-async"])
        #expect(accepted.status == 202, "\(accepted)")
        let location = try #require(accepted.header("Location"))
        let job = try #require(try accepted.object()["job"] as? [String: Any])
        let id = try #require(job["id"] as? String)
        #expect(location == "/api/backups/jobs/\(id)")
        #expect(["queued", "running"].contains(job["state"] as? String ?? ""))
        #expect(job["operation"] as? String == "create")
        #expect(job["user"] as? String == stack.user)

        let finished = try stack.waitForJob(location)
        #expect(finished["state"] as? String == "succeeded", "\(finished)")
        let result = try #require(finished["result"] as? [String: Any])
        let backup = try #require(result["backup"] as? [String: Any])
        let name = try #require(backup["filename"] as? String)
        #expect(backup["description"] as? String == "async")
        #expect(try stack.get("/api/backups/\(name)").status == 200)
        #expect((finished["progress"] as? [String: Any])?["phase"] as? String == "dump")

        try cluster.psql(Self.changes, database: db)
        let restoreAccepted = try stack.post("/api/backups/restore",
                                             json: #"{"backup_filename": "\#(name)", "safety_backup": false}"#,
                                             headers: ["Prefer: respond-async"])
        #expect(restoreAccepted.status == 202, "\(restoreAccepted)")
        let restoreLocation = try #require(restoreAccepted.header("Location"))
        #expect(restoreLocation != location)
        let restoreJob = try stack.waitForJob(restoreLocation)
        #expect(restoreJob["state"] as? String == "succeeded", "\(restoreJob)")
        #expect(restoreJob["operation"] as? String == "restore")
        let restoreResult = try #require(restoreJob["result"] as? [String: Any])
        #expect(restoreResult["safety_backup"] is NSNull)
        #expect(try DatabaseFacts.read(db, on: cluster) == factsBefore)
        // Without a safety backup the restore left exactly one backup behind.
        #expect(try stack.get("/api/backups").array().count == 1)
    }

    @Test("two async creates at once: a 202 is never followed by a job that fails as busy (the other gets 409)")
    func twoAsyncCreates() throws {
        let db = try sampleDatabase("apitwice")
        let stack = try NginxStack(cluster: cluster, database: db)
        defer { stack.stop() }
        let requests = try (0..<2).map { index in
            try stack.startRequest("POST", "/api/backups", body: Data(#"{"description": "twin \#(index)"}"#.utf8),
                                   headers: ["Prefer: respond-async"])
        }
        let responses = try requests.map { try $0.finish() }
        #expect(responses.contains { $0.status == 202 }, "\(responses)")
        for response in responses where response.status != 202 {
            expectAPIError(response, 409, "operation_in_progress", "the create that lost the race")
        }
        for response in responses where response.status == 202 {
            let location = try #require(response.header("Location"))
            let job = try stack.waitForJob(location)
            let error = job["error"] as? [String: Any]
            // DESIGN: a busy directory is a 409 for the request, not a job that was accepted and then failed.
            #expect(job["state"] as? String == "succeeded",
                    "accepted with 202, then \(job["state"] ?? "?"): \(error?["detail"] ?? "")")
        }
    }
}
