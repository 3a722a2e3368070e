import Foundation
import Testing

@testable import BackupCore

@Suite("BackupError")
struct BackupErrorTests {
    static let holder = LockHolder(operation: "create", pid: 4242, since: Date(timeIntervalSince1970: 1_769_697_022))

    struct Mapping: Sendable, CustomTestStringConvertible {
        let error: BackupError
        let code: String
        let description: String
        var testDescription: String { code }
    }

    static let mappings: [Mapping] = [
        Mapping(error: .invalidConfiguration(variable: "BACKUP_MAX_COUNT", value: "0", reason: "must be between 1 and 1000000"),
                code: "invalid_configuration",
                description: "invalid value '0' for BACKUP_MAX_COUNT: must be between 1 and 1000000"),
        Mapping(error: .invalidInput("invalid backup name 'x'"), code: "invalid_input",
                description: "invalid backup name 'x'"),
        Mapping(error: .notFound("backup_db_20260101_120000.sql.gz"), code: "not_found",
                description: "no backup named 'backup_db_20260101_120000.sql.gz'"),
        Mapping(error: .operationInProgress(holder), code: "operation_in_progress",
                description: "another operation is running: create (pid 4242, since 2026-01-29T14:30:22.000000Z)"),
        Mapping(error: .operationInProgress(nil), code: "operation_in_progress",
                description: "another operation is running"),
        Mapping(error: .verificationFailed(name: "b.sql.gz", reason: "gzip data ends early (the file is truncated)"),
                code: "verification_failed",
                description: "backup 'b.sql.gz' failed verification: gzip data ends early (the file is truncated)"),
        Mapping(error: .dumpFailed("permission denied for table t"), code: "dump_failed",
                description: "pg_dump failed: permission denied for table t"),
        Mapping(error: .restoreFailed("syntax error"), code: "restore_failed",
                description: "restore failed, the database was left unchanged: syntax error"),
        Mapping(error: .databaseUnreachable("connection refused"), code: "database_unreachable",
                description: "cannot connect to the database: connection refused"),
        Mapping(error: .versionMismatch(pgDump: "14.10", server: "15.18"), code: "version_mismatch",
                description: "pg_dump 14.10 is older than the server (15.18); install a pg_dump of the server's major version or newer"),
        Mapping(error: .insufficientSpace(needed: 1200, available: 1000), code: "insufficient_space",
                description: "not enough free space in the backup directory: about 1200 bytes needed, 1000 available"),
        Mapping(error: .io(path: "/srv/backups", message: "Permission denied"), code: "io_error",
                description: "/srv/backups: Permission denied"),
        Mapping(error: .launchFailed(program: "pg_dump", message: "No such file or directory"), code: "launch_failed",
                description: "cannot run pg_dump: No such file or directory"),
        Mapping(error: .interrupted(operation: "create", signal: SIGTERM), code: "interrupted",
                description: "create interrupted by SIGTERM: no backup was made and its partial file was removed"),
        Mapping(error: .interrupted(operation: "restore", signal: SIGINT), code: "interrupted",
                description: "restore interrupted by SIGINT before COMMIT: the database was left unchanged"),
        Mapping(error: .interrupted(operation: "drill", signal: SIGTERM), code: "interrupted",
                description: "drill interrupted by SIGTERM: its scratch database was dropped"),
        Mapping(error: .drillNotPermitted(role: "backup"), code: "insufficient_privilege",
                description: "role 'backup' (POSTGRES_USER) may not create databases, and a drill restores into a scratch database it creates and drops"),
        Mapping(error: .drillFailed(DrillResult(
                    record: DrillRecord(backup: "b.sql.gz", at: Date(timeIntervalSince1970: 0), passed: false, durationSeconds: 1,
                                        mismatches: [.init(table: "public.t", expected: 2, found: 1), .init(table: "public.u", expected: 1, found: nil)]),
                    scratchDatabase: "pgbackup_drill_19700101_000000", found: ["public.t": 1], compared: true)),
                code: "drill_failed",
                description: "drill of 'b.sql.gz' failed: 2 row counts differ from the backup's: public.t expected 2, found 1; public.u expected 1, found no such table"),
    ]

    @Test("every case maps to its code and message (exit codes and statuses: ExitCodeTests, HTTPStatusTests)", arguments: mappings)
    func mapping(_ m: Mapping) {
        #expect(m.error.code == m.code)
        #expect(m.error.description == m.description)
        // STYLE: one sentence, lower-case start, no trailing period.
        #expect(!m.error.description.hasSuffix("."))
        #expect(m.error.description.first.map { !$0.isUppercase } ?? false)
    }

    @Test("the JSON body: success false, the code, and the message with its hint")
    func jsonShape() {
        #expect(BackupError.notFound("x.sql.gz").json == .object([
            ("success", .bool(false)), ("error", .string("not_found")), ("detail", .string("no backup named 'x.sql.gz'")),
        ]))
        #expect(BackupError.databaseUnreachable("timeout").json == .object([
            ("success", .bool(false)), ("error", .string("database_unreachable")),
            ("detail", .string("cannot connect to the database: timeout. Check POSTGRES_HOST, POSTGRES_PORT, POSTGRES_USER and the password, and that the server is running.")),
        ]))
        #expect(BackupError.notFound("x").json.serialized() == #"{"success":false,"error":"not_found","detail":"no backup named 'x'"}"#)
    }

    @Test("a busy error names what is running")
    func busyJSON() {
        #expect(BackupError.operationInProgress(Self.holder).json == .object([
            ("success", .bool(false)), ("error", .string("operation_in_progress")),
            ("detail", .string("another operation is running: create (pid 4242, since 2026-01-29T14:30:22.000000Z). Wait for it to finish, then try again.")),
            ("running", .object([("operation", .string("create")), ("since", .string("2026-01-29T14:30:22.000000Z")), ("pid", .int(4242))])),
        ]))
        #expect(BackupError.operationInProgress(nil).json["running"] == nil)
    }

    @Test("a bad setting's hint points at where it came from: a command-line flag, or the environment", arguments: [
        ("--identity", "Fix the --identity value on the command line."),
        ("BACKUP_AGE_IDENTITY_FILE", "Fix the setting in the environment or the env file."),
        ("/etc/pgbackup/pgbackup.env:3", "Fix the setting in the environment or the env file."),
    ])
    func configurationHint(_ variable: String, _ hint: String) {
        let error = BackupError.invalidConfiguration(variable: variable, value: "/tmp/k.txt", reason: "the identity file's mode is 644")
        #expect(error.hint == hint)
        #expect(error.json["detail"] == .string("invalid value '/tmp/k.txt' for \(variable): the identity file's mode is 644. \(hint)"))
    }

    @Test("hints are whole sentences where present", arguments: mappings)
    func hints(_ m: Mapping) {
        guard let hint = m.error.hint else { return }
        #expect(hint.hasSuffix("."))
        #expect(hint.first?.isUppercase == true)
        #expect(m.error.json["detail"] == .string(m.description + ". " + hint))
    }
}
