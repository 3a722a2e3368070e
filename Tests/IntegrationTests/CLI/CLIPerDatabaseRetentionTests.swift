import Foundation
import Testing

/// Issue 16: several databases share one BACKUP_DIR (the guide's layout; a restore into staging leaves a safety
/// backup of staging there). Retention is applied per database, so one database's backups never expire another's.
@Suite("PerDatabaseRetentionTests", .serialized, .postgresCluster)
final class PerDatabaseRetentionTests {
    let ctx: CLITestContext
    let strict = ["BACKUP_MAX_COUNT": "2", "BACKUP_RETENTION_DAYS": "1"]

    init() throws { ctx = try CLITestContext() }
    deinit { ctx.remove() }

    /// Two backups of `database` from eleven days ago, newest first, with their SHA-256.
    private func twoOldBackups(_ database: String) throws -> [(name: String, sha: String)] {
        let first = try ctx.backdate(try ctx.create(database, description: "old 1"), database: database, hours: 11.05 * 24)
        let second = try ctx.backdate(try ctx.create(database, description: "old 2"), database: database, hours: 11 * 24)
        return try [second, first].map { ($0, try BackupFiles.sha256(ctx.backupURL($0))) }
    }

    private func expectIntact(_ backups: [(name: String, sha: String)], database: String,
                              sourceLocation: SourceLocation = #_sourceLocation) throws {
        for backup in backups {
            #expect(try ctx.listedNames(database).contains(backup.name), "\(backup.name) was deleted",
                    sourceLocation: sourceLocation)
            #expect(try BackupFiles.sha256(ctx.backupURL(backup.name)) == backup.sha, sourceLocation: sourceLocation)
            let verify = try ctx.pgbackup(["verify", backup.name, "--json"], database: database)
            #expect(verify.status == 0, "\(verify)", sourceLocation: sourceLocation)
        }
    }

    /// The breakdown of a `cleanup --json` answer: database → (kept, deleted).
    private func breakdown(_ answer: [String: Any]) -> [String: (kept: [String], deleted: [String])] {
        var result: [String: (kept: [String], deleted: [String])] = [:]
        for entry in answer["databases"] as? [[String: Any]] ?? [] {
            guard let database = entry["database"] as? String else { continue }
            result[database] = (entry["kept"] as? [String] ?? [], entry["deleted"] as? [String] ?? [])
        }
        return result
    }

    /// The reproduction: two backups of `reta` from eleven days ago, then two creates of `retb` into the same
    /// directory with BACKUP_MAX_COUNT=2 and BACKUP_RETENTION_DAYS=1. Both backups of `reta` survive.
    @Test func twoCreatesOfRetbKeepBothOldBackupsOfReta() throws {
        let reta = try ctx.sampleDatabase("reta")
        let retb = try ctx.sampleDatabase("retb")
        let old = try twoOldBackups(reta)

        let b1 = try ctx.create(retb, description: "retb 1", env: strict)
        let b2 = try ctx.create(retb, description: "retb 2", env: strict)
        #expect(Set(try ctx.listedNames(reta)) == Set(old.map(\.name) + [b1, b2]))
        try expectIntact(old, database: reta)

        // An old third backup of reta is now beyond its own count: cleanup removes it, and says so per database.
        let third = try ctx.backdate(try ctx.create(reta, description: "old 3", env: ["BACKUP_MAX_COUNT": "30"]),
                                     database: reta, hours: 12 * 24)
        let dry = try ctx.pgbackup(["cleanup", "--dry-run", "--json"], database: retb, env: strict)
        try #require(dry.status == 0, "\(dry)")
        let answer = try JSON.object(dry.stdout)
        #expect(answer["deleted"] as? [String] == [third])
        #expect(JSON.int(answer["kept"]) == 4)
        let perDatabase = breakdown(answer)
        #expect(perDatabase.keys.sorted() == [reta, retb].sorted())
        #expect(perDatabase[reta]?.kept == old.map(\.name) && perDatabase[reta]?.deleted == [third])
        #expect(perDatabase[retb]?.kept == [b2, b1] && perDatabase[retb]?.deleted == [])
        let human = try ctx.pgbackup(["cleanup", "--dry-run"], database: retb, env: strict)
        #expect(human.out.contains("Database \(reta): keeping 2, would delete 1"), "\(human.out)")
        #expect(human.out.contains("Database \(retb): keeping 2, would delete 0"), "\(human.out)")
        #expect(human.out.contains("Would delete \(third)"))
        #expect(FileManager.default.fileExists(atPath: ctx.backupURL(third).path), "a dry run deletes nothing")

        let real = try ctx.pgbackup(["cleanup", "--json"], database: retb, env: strict)
        #expect(try JSON.object(real.stdout)["deleted"] as? [String] == [third], "\(real)")
        try expectIntact(old, database: reta)
    }

    /// A busy staging database: restores into it, each with its safety backup, more often than BACKUP_MAX_COUNT,
    /// then a create and a cleanup. The first database's backups all survive.
    @Test func restoresIntoASecondDatabaseNeverDeleteTheFirstsBackups() throws {
        let production = try ctx.sampleDatabase("prod")
        let staging = try ctx.sampleDatabase("staging")
        let old = try twoOldBackups(production)
        var safety: [String] = []
        for round in 0..<3 {
            try ctx.cluster.psql("UPDATE canary SET value = 'staging \(round)'", database: staging)
            let restore = try ctx.pgbackup(["restore", old[round % 2].name, "--target-db", staging, "--yes", "--json"],
                                           database: production, env: strict)
            try #require(restore.status == 0, "\(restore)")
            let backup = try #require(try JSON.object(restore.stdout)["safety_backup"] as? [String: Any])
            let name = try #require(backup["filename"] as? String)
            #expect(try ctx.sidecar(name)["database"] as? String == staging, "a safety backup belongs to the target")
            safety.append(name)
            #expect(try ctx.cluster.psql("SELECT value FROM canary", database: staging) == SampleSchema.canaryValue)
        }
        let create = try ctx.create(staging, description: "after the restores", env: strict)
        let cleanup = try ctx.pgbackup(["cleanup", "--json"], database: staging, env: strict)
        try #require(cleanup.status == 0, "\(cleanup)")
        #expect(try JSON.object(cleanup.stdout)["deleted"] as? [String] == [])
        try expectIntact(old, database: production)
        #expect(Set(try ctx.listedNames(staging)) == Set(old.map(\.name) + safety + [create]))

        // The last safety backup still holds the state the third restore replaced.
        let back = try ctx.pgbackup(["restore", safety[2], "--target-db", staging, "--no-safety-backup", "--yes"],
                                    database: production, env: strict)
        #expect(back.status == 0, "\(back)")
        #expect(try ctx.cluster.psql("SELECT value FROM canary", database: staging) == "staging 2")
        try expectIntact(old, database: production)
    }
}
