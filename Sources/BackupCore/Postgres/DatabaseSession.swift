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
