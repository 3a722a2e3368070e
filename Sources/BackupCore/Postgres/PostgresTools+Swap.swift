import Foundation

/// What `restore --swap` and `rollback` ask of the server besides the load. Every database name here has passed
/// `DatabaseName.problem` (no quote can occur in it), so double-quoting it makes a safe identifier, and a single-
/// quoted literal of it needs no escaping; everything read from the catalog is quoted by the server itself
/// (`format('%I')`, `%L`), so the statements it hands back are safe to run.
extension PostgresTools {
    /// Every database with its comment (`shobj_description`), for telling the databases of pgbackup's swaps and
    /// drills (their `DatabaseMarker`s) apart from lookalikes.
    func databasesWithComments(database: String) throws -> [(name: String, comment: String?)] {
        let json = try queryJSON("SELECT coalesce(json_agg(json_build_array(datname, shobj_description(oid, "
                                 + "'pg_database')) ORDER BY datname), '[]') FROM pg_database", database: database)
        guard case let .array(rows) = json else { return [] }
        return rows.compactMap { row in
            guard case let .array(values) = row, values.count == 2, let name = values[0].stringValue else { return nil }
            return (name, values[1].stringValue)
        }
    }

    /// The statements that make `new` like `target`: a `CREATE DATABASE … TEMPLATE template0` with the target's
    /// owner, encoding, collation/ctype, locale provider (15+), connection limit and tablespace; then (`after`) its
    /// `ALTER DATABASE … SET` settings (per role in the database too) and its grants. `comment`: the target's own.
    func databaseLike(_ target: String, new: String, serverVersion: Int, database: String) throws -> DatabaseLike {
        let json = try queryJSON(Self.likeSQL(target: target, new: new, serverVersion: serverVersion), database: database)
        guard let create = json["create"]?.stringValue, case let .array(after)? = json["after"] else {
            throw BackupError.invalidInput("the database '\(target)' does not exist; restore --swap makes the new "
                + "database like the target, so the target must exist (create it, or restore without --swap)")
        }
        return DatabaseLike(create: create, after: after.compactMap(\.stringValue), comment: json["comment"]?.stringValue)
    }

    /// Client sessions on `target` other than pgbackup's own query, read from another database.
    func sessions(on target: String, database: String) throws -> [DatabaseSession] {
        let sql = """
            SELECT \(DatabaseSession.jsonAggregate("v")) FROM pg_stat_activity v
            WHERE v.datname = '\(target)' AND v.pid <> pg_backend_pid() AND v.backend_type = 'client backend'
            """
        let result = try BackupError.mapping { try ChildProcess.run(queryCommand(sql, database: database)) }
        guard result.status == 0 else {
            throw BackupError.restoreFailed("could not list the sessions on '\(target)': "
                + redact(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        return DatabaseSession.parseList(result.stdout)
    }

    /// ONE transaction on `database` (a maintenance database, never one of the two): `target` → `outgoing`, then
    /// `incoming` → `target`, each given its comment. Returns the seconds the transaction took.
    func swapDatabases(target: String, outgoing: String, incoming: String, outgoingComment: String,
                       targetComment: String?, database: String) throws -> Double {
        let sql = """
            BEGIN;
            ALTER DATABASE "\(target)" RENAME TO "\(outgoing)";
            ALTER DATABASE "\(incoming)" RENAME TO "\(target)";
            COMMENT ON DATABASE "\(outgoing)" IS \(Self.literal(outgoingComment));
            COMMENT ON DATABASE "\(target)" IS \(targetComment.map(Self.literal) ?? "NULL");
            COMMIT;
            """
        let started = Date()
        try execute(sql, database: database)
        return Date().timeIntervalSince(started)
    }

    /// A single-quoted SQL literal (standard_conforming_strings, the default since 9.1: only `'` is special).
    static func literal(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }
}

/// How to make a database like another: run `create` alone (CREATE DATABASE cannot run in a transaction), then
/// `after` together.
struct DatabaseLike: Sendable {
    var create: String
    var after: [String]
    var comment: String?
}
