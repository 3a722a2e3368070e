import Foundation
import TestSupport
import Testing

@testable import BackupCore

@Suite("Listing locations")
struct ListingLocationsTests {
    static func metadata(_ name: String, hoursAgo: Double) -> BackupMetadata {
        BackupStoreTests.metadata(name, hoursAgo: hoursAgo)
    }

    @Test("without off-site copies the list is exactly the old one: no locations")
    func offsiteOff() {
        let listing = BackupListing(backups: [Self.metadata("backup_db_20260129_143022.sql.gz", hoursAgo: 0)],
                                    damaged: [], orphans: [])
        guard case let .array(items) = listing.json, case let .object(fields)? = items.first else {
            Issue.record("not an array of objects")
            return
        }
        #expect(!fields.contains { $0.0 == "locations" })
    }

    @Test("local, local and remote, remote only (newest first), pending is not remote, damaged last")
    func locations() {
        let local = Self.metadata("backup_db_20260129_143022.sql.gz", hoursAgo: 1)
        let both = Self.metadata("backup_db_20260129_133022.sql.gz", hoursAgo: 2)
        let remoteOnly = Self.metadata("backup_db_20260129_123022.sql.gz", hoursAgo: 3)
        let newestRemoteOnly = Self.metadata("backup_db_20260129_153022.sql.gz", hoursAgo: 0)
        var state = RemoteState()
        state.remoteBackups = [newestRemoteOnly, local, both, remoteOnly]
        // Listed on the remote but still pending (its upload is not checked yet): not "remote".
        state.addPending(local.filename, at: Date())
        var listing = BackupListing(backups: [local, both], damaged: [("backup_db_20260101_000000.sql.gz", "bad")], orphans: [])
        listing.remote = state
        let entries = listing.locatedEntries
        #expect(entries.map(\.entry.filename) == [newestRemoteOnly.filename, local.filename, both.filename,
                                                  remoteOnly.filename, "backup_db_20260101_000000.sql.gz"])
        #expect(entries.map(\.locations) == [["remote"], ["local"], ["local", "remote"], ["remote"], ["local"]])
        #expect(listing.remoteOnly.map(\.filename) == [newestRemoteOnly.filename, remoteOnly.filename])
        guard case let .array(items) = listing.json else { return }
        #expect(items.first?["locations"] == .array([.string("remote")]))
    }
}
