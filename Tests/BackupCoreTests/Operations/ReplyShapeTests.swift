import Foundation
import Testing

@testable import BackupCore

/// The replies each operation's result owns, field by field and in order: the CLI (`--json`), the API and the
/// job records all send these and nothing else.
@Suite("Reply shapes")
struct ReplyShapeTests {
    static let backup = BackupMetadataTests.full

    @Test("created: success, the message, the backup's listing object")
    func created() {
        #expect(CreateResult(backup: Self.backup).json == .object([
            ("success", .bool(true)), ("message", .string("Backup created successfully")),
            ("backup", Self.backup.listingJSON),
        ]))
    }

    @Test("deleted: success and a message naming the backup")
    func deleted() {
        #expect(DeleteResult(filename: Self.backup.filename).json.serialized()
            == #"{"success":true,"message":"Backup backup_unicorn_db_20260129_143022.sql.gz deleted"}"#)
    }

    @Test("a started job: success, '<operation> started', the job; a job list is the jobs' array")
    func startedJob() {
        let job = Job(id: String(repeating: "ab", count: 16), operation: .restore(
            filename: Self.backup.filename, targetDatabase: nil, safetyBackup: true), state: .queued, user: "carol",
                      createdAt: BackupMetadataTests.created, updatedAt: BackupMetadataTests.created)
        #expect(StartedJob(job: job).json == .object([
            ("success", .bool(true)), ("message", .string("restore started")), ("job", job.json),
        ]))
        #expect(JobList(jobs: [job, job]).json == .array([job.json, job.json]))
        #expect(JobList(jobs: []).json.serialized() == "[]")
    }

    @Test("a listing: complete entries then damaged ones; orphans are not backups")
    func listing() {
        let listing = BackupStore.Listing(backups: [Self.backup], damaged: [(filename: "d.sql.gz", error: "bad")],
                                          orphans: ["o.sql.gz"])
        #expect(listing.json == .array([
            Self.backup.listingJSON,
            .object([("filename", .string("d.sql.gz")), ("error", .string("bad")), ("verified", .bool(false))]),
        ]))
    }
}
