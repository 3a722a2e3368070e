import Foundation

/// Another session on the server, as `pg_stat_activity` shows it: who blocks a restore, or whom
/// `--terminate-connections` ended.
public struct DatabaseSession: Sendable, Equatable {
    public var pid: Int64
    public var user: String
    public var applicationName: String
    public var state: String
    /// When its transaction began (else its last state change), ISO-8601 UTC.
    public var since: String

    public var json: JSON {
        .object([("pid", .int(pid)), ("user", .string(user)), ("application_name", .string(applicationName)),
                 ("state", .string(state)), ("since", .string(since))])
    }

    /// "pid 4242 (user app, application 'psql', idle in transaction since 2026-12-01T21:50:01Z)".
    public var summary: String {
        "pid \(pid) (user \(user), application '\(applicationName)', \(state) since \(since))"
    }

    /// Reads the JSON array the session queries below print; anything unreadable is an empty list.
    static func parseList(_ text: String) -> [DatabaseSession] {
        guard let json = try? JSON.parse(Array(text.trimmingCharacters(in: .whitespacesAndNewlines).utf8)),
              case let .array(items) = json
        else { return [] }
        return items.compactMap { item in
            guard let pid = item["pid"]?.int64Value else { return nil }
            return DatabaseSession(pid: pid, user: item["user"]?.stringValue ?? "?",
                                   applicationName: item["application_name"]?.stringValue ?? "",
                                   state: item["state"]?.stringValue ?? "unknown",
                                   since: item["since"]?.stringValue ?? "?")
        }
    }

    /// The columns of `pg_stat_activity` row `alias` as one JSON object, aggregated into an array.
    static func jsonAggregate(_ alias: String) -> String {
        """
        coalesce(json_agg(json_build_object('pid', \(alias).pid, 'user', \(alias).usename, \
        'application_name', \(alias).application_name, 'state', \(alias).state, 'since', \
        to_char(coalesce(\(alias).xact_start, \(alias).state_change, \(alias).backend_start) AT TIME ZONE 'UTC', \
        'YYYY-MM-DD"T"HH24:MI:SS"Z"')) ORDER BY \(alias).pid), '[]')
        """
    }
}

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
        let result = try ChildProcess.run(queryCommand(sql, database: database))
        guard result.status == 0 else {
            let message = redact(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
            throw BackupError.restoreFailed("could not end the other sessions on '\(database)': \(message)")
        }
        return DatabaseSession.parseList(result.stdout)
    }
}

/// Looks, on its own thread and connection, for the sessions a running restore waits for. A lock wait that
/// reaches `lock_timeout` lasts the whole timeout, so looking every quarter of it sees every such wait at least
/// three times, at a cost of one short query per look (every 75 s with the default 300 s).
final class BlockerWatch: @unchecked Sendable {
    private let condition = NSCondition()
    private var stopped = false
    private var seen: [DatabaseSession] = []

    init(tools: PostgresTools, database: String) {
        let interval = min(30, max(0.25, Double(tools.lockWaitTimeoutSeconds) / 4))
        Thread.detachNewThread { [self] in
            while waitOrStop(interval) {
                let blockers = tools.blockingSessions(database: database)
                condition.lock()
                if !blockers.isEmpty { seen = blockers }
                condition.unlock()
            }
        }
    }

    /// Waits `interval` seconds; false once `stop()` was called.
    private func waitOrStop(_ interval: Double) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(interval)
        while !stopped, condition.wait(until: deadline) {}
        return !stopped
    }

    /// Stops looking and returns the blockers seen last.
    func stop() -> [DatabaseSession] {
        condition.lock()
        defer { condition.unlock() }
        stopped = true
        condition.broadcast()
        return seen
    }
}
