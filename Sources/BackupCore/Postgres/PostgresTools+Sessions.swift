import Foundation

extension PostgresTools {
    /// Sessions that the restore's own session (application `pgbackup`, waiting on the target) is waiting for,
    /// from `pg_blocking_pids`. Read on a connection of its own while the restore waits.
    func blockingSessions(database: String) -> [DatabaseSession] {
        let sql = """
            SELECT \(DatabaseSession.jsonAggregate("b")) FROM pg_stat_activity b WHERE b.pid IN (
              SELECT unnest(pg_blocking_pids(w.pid)) FROM pg_stat_activity w
              WHERE w.datname = current_database() AND w.application_name = 'pgbackup' AND w.pid <> pg_backend_pid())
            """
        guard let result = try? ChildProcess.run(queryCommand(sql, database: database)), result.status == 0 else { return [] }
        return DatabaseSession.parseList(result.stdout)
    }

    /// Ends every other client session connected to `database` (and only there), waiting up to 5 s for each to
    /// go (PostgreSQL 14+), and returns those it ended. The victims are chosen first, in a materialised CTE, so
    /// the planner can never call `pg_terminate_backend` on a row of another database.
    func terminateSessions(database: String, serverVersion: Int) throws -> [DatabaseSession] {
        let terminate = serverVersion >= 140_000 ? "pg_terminate_backend(v.pid, 5000)" : "pg_terminate_backend(v.pid)"
        let sql = """
            WITH v AS MATERIALIZED (
              SELECT * FROM pg_stat_activity
              WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend')
            SELECT \(DatabaseSession.jsonAggregate("v")) FROM v WHERE \(terminate)
            """
        let result = try BackupError.mapping { try ChildProcess.run(queryCommand(sql, database: database)) }
        guard result.status == 0 else {
            let message = redact(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
            throw BackupError.restoreFailed("could not end the other sessions on '\(database)': \(message)")
        }
        return DatabaseSession.parseList(result.stdout)
    }
}
