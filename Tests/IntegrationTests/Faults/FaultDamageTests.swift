import Foundation
import Testing

/// Ways a stored backup gets damaged after it was made: the file itself, or its sidecar.
enum StoredDamage: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case truncated
    case flippedByte
    case appendedGarbage
    case sidecarDeleted
    case sidecarCorrupted
    /// The sidecar's `filename` names another backup.
    case sidecarNamesAnotherFile
    /// The sidecar is another backup's, renamed: its checksum and sizes describe another file.
    case sidecarDescribesAnotherFile
    case sidecarChecksumEdited

    var testDescription: String { rawValue }

    /// Whether the damaged backup still has a sidecar that parses and names it (so it is still listed as complete).
    var stillListed: Bool {
        switch self {
        case .truncated, .flippedByte, .appendedGarbage, .sidecarDescribesAnotherFile, .sidecarChecksumEdited: true
        case .sidecarDeleted, .sidecarCorrupted, .sidecarNamesAnotherFile: false
        }
    }

    /// Words one of which verify's message must contain.
    var reasonWords: [String] {
        switch self {
        case .truncated: ["truncated", "ends early", "sha-256", "size"]
        case .flippedByte: ["sha-256", "crc", "corrupt"]
        case .appendedGarbage: ["sha-256", "garbage", "after the end", "size"]
        case .sidecarDeleted: ["no metadata", "incomplete"]
        case .sidecarCorrupted: ["json"]
        case .sidecarNamesAnotherFile: ["names another file"]
        case .sidecarDescribesAnotherFile, .sidecarChecksumEdited: ["sha-256"]
        }
    }

    func apply(to victim: String, other: String, in ctx: CLITestContext) throws {
        let sidecar = ctx.sidecarURL(victim)
        switch self {
        case .truncated: try Corruption.truncated.apply(to: ctx.backupURL(victim))
        case .flippedByte: try Corruption.flippedByte.apply(to: ctx.backupURL(victim))
        case .appendedGarbage: try Corruption.appendedGarbage.apply(to: ctx.backupURL(victim))
        case .sidecarDeleted: try FileManager.default.removeItem(at: sidecar)
        case .sidecarCorrupted:
            let bytes = try Data(contentsOf: sidecar)
            try bytes.prefix(bytes.count / 2).write(to: sidecar)
        case .sidecarNamesAnotherFile:
            var object = try JSON.object(try Data(contentsOf: sidecar))
            object["filename"] = other
            try JSON.write(object, to: sidecar)
        case .sidecarDescribesAnotherFile:
            var object = try JSON.object(try Data(contentsOf: ctx.sidecarURL(other)))
            object["filename"] = victim
            try JSON.write(object, to: sidecar)
        case .sidecarChecksumEdited:
            var object = try JSON.object(try Data(contentsOf: sidecar))
            let sha = object["sha256"] as? String ?? ""
            object["sha256"] = String(sha.reversed())
            try JSON.write(object, to: sidecar)
        }
        chmod(sidecar.path, 0o600)
    }
}

extension FaultSuite {
    /// Every kind of damage to a stored backup is caught by verify and refused by restore, before the database or
    /// any other backup is touched.
    @Suite("stored-file damage", .serialized, .postgresCluster)
    final class DamageTests {
        let ctx: CLITestContext

        init() throws { ctx = try CLITestContext() }
        deinit { ctx.remove() }

        @Test(arguments: StoredDamage.allCases)
        func verifyCatchesAndRestoreRefuses(_ damage: StoredDamage) throws {
            let db = try ctx.sampleCopy("damage")
            let victim = try ctx.create(db, description: "to be damaged")
            try ctx.cluster.psql("UPDATE canary SET value = 'between the backups'", database: db)
            let other = try ctx.create(db, description: "stays intact")
            let invariants = ctx.invariants(db)
            let before = try invariants.check()
            try damage.apply(to: victim, other: other, in: ctx)
            try ctx.cluster.psql("UPDATE canary SET value = 'after the damage'", database: db)
            let dumpBefore = try ctx.cluster.normalisedDump(db)

            let verify = try ctx.pgbackup(["verify", victim, "--json"], database: db)
            #expect(verify.status == 4, "\(verify)")
            let answer = try verify.jsonObject()
            #expect(answer["error"] as? String == "verification_failed")
            let detail = (answer["detail"] as? String ?? "").lowercased()
            #expect(detail.contains(victim.lowercased()), "the message must name the backup: \(detail)")
            #expect(damage.reasonWords.contains { detail.contains($0) }, "expected one of \(damage.reasonWords): \(detail)")

            let all = try ctx.pgbackup(["verify", "--all", "--json"], database: db)
            let results = try all.jsonObject()["results"] as? [[String: Any]] ?? []
            let failed = results.filter { $0["verified"] as? Bool == false }.compactMap { $0["filename"] as? String }
            if damage == .sidecarDeleted {
                // A dump without its sidecar is an orphan, not a backup (DESIGN): verify --all checks backups, and
                // list and status report the orphan for a person to decide.
                #expect(try ctx.status(db)["orphans"] as? [String] == [victim])
                #expect(failed.isEmpty, "verify --all results: \(results)")
            } else {
                #expect(all.status == 4, "verify --all must fail when one backup is damaged: \(all)")
                #expect(failed == [victim], "verify --all results: \(results)")
            }
            #expect(results.contains { $0["filename"] as? String == other && $0["verified"] as? Bool == true })

            let listed = try ctx.listedNames(db)
            #expect(listed.contains(victim) == damage.stillListed, "listing \(listed)")

            for extra in [[], ["--no-safety-backup"]] {
                let restore = try ctx.pgbackup(["restore", victim, "--yes"] + extra, database: db)
                #expect(restore.status == 4, "restore \(extra) of a damaged backup: \(restore)")
                #expect(restore.err.contains(victim), "\(restore.err)")
            }
            DumpComparison.expectEqual(dumpBefore, try ctx.cluster.normalisedDump(db), "database after refused restores")
            #expect(Set(ctx.dumpFiles()) == [victim, other], "no safety backup for a refused restore: \(ctx.dumpFiles())")
            try invariants.check(unchanged: before, damaged: [victim])
        }
    }
}
