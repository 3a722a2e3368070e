import CommandLineSupport
import Foundation
import Testing

@testable import BackupCore

/// The exit-code table the three programs share, for every `BackupError` case.
@Suite("Exit codes")
struct ExitCodeTests {
    struct Row: Sendable, CustomTestStringConvertible {
        let exitCode: Int32
        let errors: [BackupError]
        var testDescription: String { "exit \(exitCode)" }
    }

    static let holder = LockHolder(operation: "create", pid: 4242, since: Date(timeIntervalSince1970: 1_769_697_022))
    static let session = DatabaseSession(pid: 7, user: "app", applicationName: "psql", state: "idle in transaction",
                                         since: "2026-12-01T21:50:01Z")

    static let rows: [Row] = [
        Row(exitCode: 1, errors: [
            .dumpFailed("permission denied for table t"), .restoreFailed("syntax error"),
            .databaseUnreachable("connection refused"), .versionMismatch(pgDump: "14.10", server: "15.18"),
            .insufficientSpace(needed: 1200, available: 1000), .io(path: "/srv/backups", message: "Permission denied"),
            .launchFailed(program: "pg_dump", message: "No such file or directory"),
            .dumpTooNew(backup: "b", pgDump: "17.7", dumpedFrom: "17.7", target: "db", server: "15.18"),
            .restoreBlocked(timeoutSeconds: 2, blockers: [session], psql: "ERROR:  canceling statement due to lock timeout"),
            .insufficientSpaceForSafetyBackup(needed: 3 << 20, available: 1 << 20),
        ]),
        Row(exitCode: 2, errors: [
            .invalidConfiguration(variable: "BACKUP_RETENTION_DAYS", value: "-1", reason: "must be between 1 and 36500"),
            .invalidInput("invalid backup name 'x'"), .notFound("backup_db_20260101_120000.sql.gz"),
            .jobNotFound(String(repeating: "ab", count: 16)),
            .targetNotNamed(backup: "backup_nc_target_20260101_000000.sql.gz", backupDatabase: "nc_target",
                            target: "pgbackup_demo"),
            .drillNotPermitted(role: "backup"),
        ]),
        Row(exitCode: 3, errors: [.operationInProgress(holder), .operationInProgress(nil)]),
        Row(exitCode: 4, errors: [.verificationFailed(name: "b.sql.gz", reason: "gzip data ends early (the file is truncated)"),
                                  .drillFailed(ExitCodeTests.failedDrill)]),
        Row(exitCode: 128 + SIGTERM, errors: [.interrupted(operation: "create", signal: SIGTERM)]),
        Row(exitCode: 128 + SIGINT, errors: [.interrupted(operation: "restore", signal: SIGINT)]),
        Row(exitCode: 128 + SIGHUP, errors: [.interrupted(operation: "create", signal: SIGHUP)]),
    ]

    @Test("each error exits with its code", arguments: rows)
    func exitCode(_ row: Row) {
        for error in row.errors {
            #expect(error.exitCode == row.exitCode, "\(error)")
        }
    }

    @Test("the table covers every BackupError case")
    func everyCase() {
        let covered = Set(Self.rows.flatMap(\.errors).map(Self.caseName))
        #expect(covered == Self.allCases, "missing: \(Self.allCases.subtracting(covered).sorted())")
    }

    @Test("the exit codes are the documented set: 1 failed, 2 bad input, 3 busy, 4 verification, 128 + signal")
    func documentedSet() {
        #expect(Set(Self.rows.flatMap(\.errors).map(\.exitCode)) == [1, 2, 3, 4, 128 + SIGINT, 128 + SIGTERM, 128 + SIGHUP])
    }

    @Test("a job's process exits 0 when it succeeded, 128 + the signal that stopped it, else 1")
    func jobExitCode() {
        var job = Job(id: String(repeating: "0", count: 32), operation: .create(description: ""), state: .succeeded,
                      user: nil, createdAt: Date(), updatedAt: Date())
        #expect(job.exitCode(interruptedBy: nil) == 0)
        #expect(job.exitCode(interruptedBy: SIGTERM) == 0)
        job.state = .failed
        #expect(job.exitCode(interruptedBy: nil) == 1)
        #expect(job.exitCode(interruptedBy: SIGTERM) == 128 + SIGTERM)
        #expect(Job.noSuchJobExitCode == 2)
    }

    static let failedDrill = DrillResult(
        record: DrillRecord(backup: "b.sql.gz", at: Date(timeIntervalSince1970: 0), passed: false, durationSeconds: 1,
                            mismatches: [.init(table: "public.t", expected: 2, found: 1)]),
        scratchDatabase: "pgbackup_drill_19700101_000000", found: ["public.t": 1], compared: true)

    /// `BackupError`'s 20 cases by name.
    static let allCases: Set<String> = [
        "invalidConfiguration", "invalidInput", "notFound", "jobNotFound", "operationInProgress", "verificationFailed",
        "dumpFailed", "restoreFailed", "databaseUnreachable", "versionMismatch", "insufficientSpace", "io", "launchFailed",
        "targetNotNamed", "dumpTooNew", "restoreBlocked", "insufficientSpaceForSafetyBackup", "interrupted",
        "drillFailed", "drillNotPermitted",
    ]

    /// The case's name: every case carries a value, so the mirror's one child is labelled with it.
    static func caseName(_ error: BackupError) -> String {
        Mirror(reflecting: error).children.first?.label ?? "\(error)"
    }
}
