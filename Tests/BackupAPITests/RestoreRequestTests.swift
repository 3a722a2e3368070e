import BackupAPI
import BackupCore
import Foundation
import Testing

/// `BackupManager.checkRestoreRequest`, the checks a synchronous restore and an async one (before its job is
/// started) share, in the order each has always made them.
@Suite("Restore request checks")
struct RestoreRequestTests {
    static let missing = "backup_appdb_20200101_000000.sql.gz"

    @Test("a bad name is refused first, whether or not the backup must exist", arguments: [false, true])
    func badName(_ mustExist: Bool) throws {
        let fixture = try RouterFixture()
        #expect(throws: BackupError.invalidInput("invalid backup name 'x.sql.gz': expected backup_<database>_<YYYYMMDD>_<HHMMSS>.sql.gz, .sql.zst, .sql.gz.age or .sql.zst.age")) {
            try fixture.manager.checkRestoreRequest("x.sql.gz", targetDatabase: "no spaces", backupMustExist: mustExist)
        }
    }

    @Test("a missing backup: refused when it must exist (before the target is looked at), else left to the restore")
    func missingBackup() throws {
        let fixture = try RouterFixture()
        #expect(throws: BackupError.notFound(Self.missing)) {
            try fixture.manager.checkRestoreRequest(Self.missing, targetDatabase: "no spaces", backupMustExist: true)
        }
        #expect(throws: Never.self) {
            try fixture.manager.checkRestoreRequest(Self.missing, targetDatabase: nil, backupMustExist: false)
        }
        #expect(throws: BackupError.self) {
            try fixture.manager.checkRestoreRequest(Self.missing, targetDatabase: "no spaces", backupMustExist: false)
        }
    }

    @Test("an invalid target and a backup of another database without a named target are refused",
          arguments: [false, true])
    func target(_ mustExist: Bool) throws {
        let fixture = try RouterFixture()
        let own = try fixture.makeBackup(ageHours: 1)
        let other = try fixture.makeBackup(database: "staging", ageHours: 1)
        do {
            try fixture.manager.checkRestoreRequest(own.filename, targetDatabase: "no spaces", backupMustExist: mustExist)
            Issue.record("an invalid target database was accepted")
        } catch let error as BackupError {
            #expect(error.code == "invalid_input" && error.description.hasPrefix("invalid target database: "), "\(error)")
        }
        #expect(throws: BackupError.targetNotNamed(backup: other.filename, backupDatabase: "staging", target: "appdb")) {
            try fixture.manager.checkRestoreRequest(other.filename, targetDatabase: nil, backupMustExist: mustExist)
        }
        try fixture.manager.checkRestoreRequest(other.filename, targetDatabase: "staging", backupMustExist: mustExist)
        try fixture.manager.checkRestoreRequest(own.filename, targetDatabase: nil, backupMustExist: mustExist)
    }

    @Test("PostgreSQL's templates are never a target", arguments: ["template0", "template1"])
    func templates(_ template: String) throws {
        let fixture = try RouterFixture()
        let own = try fixture.makeBackup(ageHours: 1)
        #expect(throws: BackupError.invalidInput("'\(template)' is a template database: every CREATE DATABASE copies it, "
            + "so a backup restored into it would reach every database made afterwards; restore into another database")) {
            try fixture.manager.checkRestoreRequest(own.filename, targetDatabase: template, backupMustExist: true)
        }
        try fixture.manager.checkRestoreRequest(own.filename, targetDatabase: "template2", backupMustExist: true)
    }
}
