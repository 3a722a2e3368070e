import BackupAPI
import Foundation
import Testing

@testable import BackupCore

/// The API's table from `BackupError` to HTTP status, for every case, and the error body it is sent with.
@Suite("HTTP statuses")
struct HTTPStatusTests {
    static let blocker = DatabaseSession(pid: 7, user: "app", applicationName: "psql", state: "idle in transaction",
                                         since: "2026-12-01T21:50:01Z")

    /// Each status, with the errors answered with it.
    static let table: [Int: [BackupError]] = [
        400: [
            .invalidInput("invalid backup name 'x'"),
            .targetNotNamed(backup: "backup_nc_target_20260101_000000.sql.gz", backupDatabase: "nc_target",
                            target: "pgbackup_demo"),
        ],
        404: [.notFound("backup_db_20260101_120000.sql.gz"), .jobNotFound(String(repeating: "ab", count: 16))],
        409: [
            .operationInProgress(LockHolder(operation: "create", pid: 4242, since: Date(timeIntervalSince1970: 1_769_697_022))),
            .operationInProgress(nil),
            .restoreBlocked(timeoutSeconds: 2, blockers: [blocker], psql: "ERROR:  canceling statement due to lock timeout"),
        ],
        422: [
            .verificationFailed(name: "b.sql.gz", reason: "gzip data ends early (the file is truncated)"),
            .dumpTooNew(backup: "b", pgDump: "17.7", dumpedFrom: "17.7", target: "db", server: "15.18"),
            .drillFailed(DrillResult(record: DrillRecord(backup: "b.sql.gz", at: Date(timeIntervalSince1970: 0), passed: false,
                                                         durationSeconds: 1, error: "psql failed"),
                                     scratchDatabase: "pgbackup_drill_19700101_000000", found: nil, compared: false)),
        ],
        500: [
            .invalidConfiguration(variable: "BACKUP_MAX_COUNT", value: "0", reason: "must be between 1 and 1000000"),
            .io(path: "/srv/backups", message: "Permission denied"), .launchFailed(program: "pg_dump", message: "ENOENT"),
            .dumpFailed("permission denied for table t"), .restoreFailed("syntax error"),
            .versionMismatch(pgDump: "14.10", server: "15.18"), .interrupted(operation: "create", signal: SIGTERM),
            .interrupted(operation: "restore", signal: SIGINT), .drillNotPermitted(role: "backup"),
        ],
        503: [.databaseUnreachable("connection refused")],
        507: [
            .insufficientSpace(needed: 1200, available: 1000),
            .insufficientSpaceForSafetyBackup(needed: 3 << 20, available: 1 << 20),
        ],
    ]

    @Test("each error is answered with its status and its JSON body", arguments: table.keys.sorted())
    func status(_ status: Int) {
        for error in Self.table[status] ?? [] {
            #expect(error.httpStatus == status, "\(error)")
            let response = APIResponse.error(error)
            #expect(response.status == status)
            #expect(response.headers.first { $0.0 == "Content-Type" }?.1 == "application/json")
            #expect(response.bodyBytes == Array((error.json.serialized(pretty: true) + "\n").utf8))
        }
    }

    @Test("the table covers every BackupError case, with the documented statuses")
    func everyCase() {
        let covered = Set(Self.table.values.joined().map { Mirror(reflecting: $0).children.first?.label ?? "\($0)" })
        // Every case carries a value, so the mirror's one child is labelled with the case's name.
        let cases: Set<String> = [
            "invalidConfiguration", "invalidInput", "notFound", "jobNotFound", "operationInProgress",
            "verificationFailed", "dumpFailed", "restoreFailed", "databaseUnreachable", "versionMismatch",
            "insufficientSpace", "io", "launchFailed", "targetNotNamed", "dumpTooNew", "restoreBlocked",
            "insufficientSpaceForSafetyBackup", "interrupted", "drillFailed", "drillNotPermitted",
        ]
        #expect(covered == cases, "missing: \(cases.subtracting(covered).sorted())")
        #expect(Set(Self.table.values.joined().map(\.httpStatus)) == [400, 404, 409, 422, 500, 503, 507])
    }
}
