import Foundation
import Testing

@testable import BackupCore

/// What a restore settles before touching the target: the backup's database, the dump's versions, the lock
/// timeout it sets, and how it names other sessions.
@Suite("Restore checks")
struct RestoreChecksTests {
    @Test(arguments: [
        ("backup_unicorn_db_20260129_143022.sql.gz", "unicorn_db"),
        ("backup_unicorn_db_20260129_143022_2.sql.gz", "unicorn_db"),
        ("backup_a_12345678_123456_20260129_143022.sql.gz", "a_12345678_123456"),
        ("backup_x_20260101_000000_12.sql.gz", "x"),
        ("backup_my.db-1_20260101_000000.sql.gz", "my.db-1"),
    ])
    func databasePartOfAName(_ name: String, _ database: String) {
        #expect(BackupName.databasePart(name) == database)
    }

    static func metadata(_ name: String, database: String) -> BackupMetadata {
        BackupMetadata(filename: name, createdAt: Date(timeIntervalSince1970: 0), database: database, sizeBytes: 1,
                       description: "", compressed: true)
    }

    @Test func theSidecarsDatabaseDecidesElseTheNamesPart() {
        let staging = Self.metadata("backup_nc_target_20260101_000000.sql.gz", database: "nc_target")
        #expect(BackupManager.isBackup(staging, ofAnotherDatabaseThan: "pgbackup_demo"))
        #expect(!BackupManager.isBackup(staging, ofAnotherDatabaseThan: "nc_target"))
        // The old tool's sidecar without `database`: the name's part, compared with the target's file-safe form.
        let old = Self.metadata("backup_my_db_20260101_000000.sql.gz", database: "")
        #expect(BackupManager.sourceDatabase(of: old) == "my_db")
        #expect(!BackupManager.isBackup(old, ofAnotherDatabaseThan: "my db"))
        #expect(BackupManager.isBackup(old, ofAnotherDatabaseThan: "other"))
    }

    @Test func theHeaderGivesBothVersionsAndOnlyTheFirstCounts() {
        let header = DumpHeader.parse("""
            --
            -- PostgreSQL database dump
            --

            -- Dumped from database version 17.7 (Debian 17.7-1.pgdg120+1)
            -- Dumped by pg_dump version 17.7 (Debian 17.7-1.pgdg120+1)

            SET statement_timeout = 0;
            -- Dumped by pg_dump version 99.0
            """)
        #expect(header.dumpedFrom == "17.7 (Debian 17.7-1.pgdg120+1)")
        #expect(header.dumpedBy == "17.7 (Debian 17.7-1.pgdg120+1)")
        #expect(PostgresTools.parseToolVersion(header.dumpedBy ?? "")?.number == 170_007)
        #expect(DumpHeader.parse("SELECT 1;\n") == DumpHeader())
    }

    @Test func theDumpsOwnLockTimeoutIsReplacedOnlyInItsPreamble() throws {
        let dump = """
            SET statement_timeout = 0;
            SET lock_timeout = 0;
            SET idle_in_transaction_session_timeout = 0;

            --
            -- Name: f(); Type: FUNCTION; Schema: public; Owner: -
            --

            SET lock_timeout = 0;

            """
        var filter = RestoreFilter()
        filter.lockTimeoutLine = Array("SET lock_timeout = '7s';".utf8)
        var output = [UInt8]()
        try Array(dump.utf8).withUnsafeBytes { raw in try filter.process(raw) { output.append(contentsOf: $0) } }
        try filter.finish { output.append(contentsOf: $0) }
        let lines = String(decoding: output, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(lines[1] == "SET lock_timeout = '7s';")
        #expect(lines.filter { $0 == "SET lock_timeout = 0;" }.count == 1, "only the preamble's line: \(lines)")
    }

    @Test func sessionsAreReadFromTheQuerysJSONAndNamedInTheMessage() {
        let sessions = DatabaseSession.parseList("""
            [{"pid": 4242, "user": "app", "application_name": "psql", "state": "idle in transaction",
              "since": "2026-12-01T21:50:01Z"}, {"pid": null}]
            """)
        #expect(sessions == [DatabaseSession(pid: 4242, user: "app", applicationName: "psql", state: "idle in transaction",
                                             since: "2026-12-01T21:50:01Z")])
        #expect(DatabaseSession.parseList("not json").isEmpty)
        let error = BackupError.restoreBlocked(timeoutSeconds: 2, blockers: sessions,
                                               psql: "ERROR:  canceling statement due to lock timeout")
        #expect(error.description.contains("pid 4242 (user app, application 'psql', idle in transaction since 2026-12-01T21:50:01Z)"))
        #expect(error.description.contains("BACKUP_LOCK_WAIT_TIMEOUT=2s"))
        #expect(error.code == "database_in_use")
        #expect(error.json["blocking_sessions"] == .array(sessions.map(\.json)))
    }

    @Test func refusalsSayWhatToDo() {
        let target = BackupError.targetNotNamed(backup: "backup_nc_target_20260101_000000.sql.gz",
                                                backupDatabase: "nc_target", target: "pgbackup_demo")
        #expect(target.description.contains("'nc_target'") && target.description.contains("'pgbackup_demo'"))
        #expect(target.hint?.contains("--target-db pgbackup_demo") == true)
        let space = BackupError.insufficientSpaceForSafetyBackup(needed: 3 << 20, available: 1 << 20)
        #expect(space.description.contains("safety backup") && space.description.contains("3.0 MB needed"))
        #expect(space.hint?.contains("--no-safety-backup") == true)
        let tooNew = BackupError.dumpTooNew(backup: "b", pgDump: "17.7", dumpedFrom: "17.7", target: "db", server: "15.18")
        #expect(tooNew.description.contains("pg_dump 17.7") && tooNew.description.contains("15.18"))
    }
}
