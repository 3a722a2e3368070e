import Foundation
import TestSupport
import Testing

/// Encrypted backups through nginx and the responder: the stored ciphertext downloads as it is, verify says what
/// it could check, a restore without the key on the server is refused before anything happens (sync and async),
/// and with it the data comes back; the private key is in no answer and no job file.
@Suite("API through nginx: backups encrypted with age", .serialized, .postgresCluster)
final class APIEncryptionTests {
    let ctx: CLITestContext
    let keys: AgeKeyPair

    init() throws {
        ctx = try CLITestContext()
        keys = try AgeKeyPair(in: ctx.scratch.appending("keys"))
    }

    deinit { ctx.remove() }

    @Test func encryptedBackupsDownloadAsCiphertextAndRestoreOnlyWithTheKey() throws {
        let db = try ctx.sampleDatabase("apiage")
        let before = try ctx.cluster.normalisedDump(db)
        var settings = keys.encrypting
        settings["BACKUP_DIR"] = ctx.backupDir.path
        var answers: [String] = []

        let withoutKey = try NginxStack(cluster: ctx.cluster, database: db, settings: settings)
        let created = try withoutKey.post("/api/backups", json: #"{"description": "encrypted"}"#)
        try #require(created.status == 201, "\(created)")
        let name = try #require((try created.object()["backup"] as? [String: Any])?["filename"] as? String)
        #expect(name.hasSuffix(".sql.gz.age"))
        let info = try withoutKey.get("/api/backups/\(name)")
        #expect(try info.object()["encrypted"] as? Bool == true)
        #expect(try info.object()["recipients"] as? [String] == [keys.publicKey])
        #expect(try withoutKey.get("/api/backups/status").object()["encryption"] as? String == "age")

        let file = withoutKey.scratch.appending("downloaded.age")
        let download = try withoutKey.request("GET", "/api/backups/download/\(name)", saveBodyTo: file)
        #expect(download.status == 200)
        #expect(download.header("Content-Type") == "application/octet-stream")
        #expect(try BackupFiles.sha256(file) == (try ctx.sidecar(name))["sha256"] as? String)
        #expect(String(decoding: try BackupFiles.gunzip(try EncryptionTests.saved(keys.decrypt(file), in: ctx)),
                       as: UTF8.self).contains(SampleSchema.canaryValue))

        let verify = try withoutKey.post("/api/backups/\(name)/verify")
        #expect(verify.status == 200, "\(verify)")
        #expect(try verify.object()["content_checked"] as? Bool == false)
        #expect(try verify.object()["checks"] as? [String] == ["sha256", "age_header"])

        try ctx.cluster.psql(CLIRoundTripTests.changes, database: db)
        let changed = try ctx.cluster.normalisedDump(db)
        let files = ctx.directorySnapshot()
        for prefer in [[], ["Prefer: respond-async"]] {
            let refused = try withoutKey.post("/api/backups/restore", json: #"{"backup_filename": "\#(name)"}"#, headers: prefer)
            #expect(refused.status == 422, "\(prefer): \(refused)")
            #expect(try refused.object()["error"] as? String == "identity_required", "\(refused)")
            #expect(ctx.directorySnapshot() == files, "no safety backup, no job: \(prefer)")
        }
        DumpComparison.expectEqual(changed, try ctx.cluster.normalisedDump(db), "after the refused restores")
        withoutKey.stop()

        settings["BACKUP_AGE_IDENTITY_FILE"] = keys.identityFile
        let withKey = try NginxStack(cluster: ctx.cluster, database: db, settings: settings)
        defer { withKey.stop() }
        let fullVerify = try withKey.post("/api/backups/\(name)/verify")
        #expect(try fullVerify.object()["checks"] as? [String] == ["sha256", "age", "gzip_crc", "dump_trailer"], "\(fullVerify)")
        let accepted = try withKey.post("/api/backups/restore", json: #"{"backup_filename": "\#(name)"}"#,
                                        headers: ["Prefer: respond-async"])
        #expect(accepted.status == 202, "\(accepted)")
        let job = try withKey.waitForJob(try #require(accepted.header("Location")))
        #expect(job["state"] as? String == "succeeded", "\(job)")
        DumpComparison.expectEqual(before, try ctx.cluster.normalisedDump(db), "restored through the API with the key")

        answers += [created.text, info.text, verify.text, fullVerify.text, accepted.text, "\(job)",
                    try withKey.get("/api/backups").text, try withKey.get("/api/backups/status").text]
        for answer in answers { #expect(!answer.contains(keys.secretKey), "an answer holds the private key: \(answer)") }
        let enumerator = FileManager.default.enumerator(atPath: ctx.backupDir.path)
        while let relative = enumerator?.nextObject() as? String {
            let data = FileManager.default.contents(atPath: ctx.backupDir.appendingPathComponent(relative).path) ?? Data()
            #expect(!String(decoding: data, as: UTF8.self).contains(keys.secretKey), "\(relative) holds the private key")
        }
    }
}
