import Foundation

/// What a restore drill asks of the server besides the restore itself. Every database name here has passed
/// `DatabaseName.problem` (no quote can occur in it), so double-quoting it makes a safe identifier; table names
/// are never written into SQL by pgbackup: the server quotes them itself (`quote_ident`, as pg_dump does).
extension PostgresTools {
    /// The connected role, and whether it may create databases (CREATEDB, or superuser).
    func createDatabasePrivilege(database: String) throws -> (role: String, allowed: Bool) {
        let json = try queryJSON(
            "SELECT json_build_array(current_user, rolcreatedb OR rolsuper) FROM pg_roles WHERE rolname = current_user",
            database: database)
        guard case let .array(values) = json, values.count == 2, let role = values[0].stringValue,
              let allowed = values[1].boolValue
        else { throw BackupError.databaseUnreachable("unexpected answer to the privilege query") }
        return (role, allowed)
    }

    /// Every database on the server.
    func databaseNames(database: String) throws -> [String] {
        let json = try queryJSON("SELECT coalesce(json_agg(datname), '[]') FROM pg_database", database: database)
        guard case let .array(values) = json else { return [] }
        return values.compactMap(\.stringValue)
    }

    /// `CREATE DATABASE` from template0, so nothing of template1 can make the restore fail or pass wrongly, with
    /// the encoding and locale of `database` (POSTGRES_DB), which a restore would go into. Fails if `name` exists.
    func createScratchDatabase(_ name: String, database: String) throws {
        let like = try queryJSON(
            "SELECT json_build_array(pg_encoding_to_char(encoding), datcollate, datctype) FROM pg_database "
                + "WHERE datname = current_database()", database: database)
        var options = ""
        if case let .array(values) = like, values.count == 3, let encoding = values[0].stringValue,
           let collate = values[1].stringValue, let ctype = values[2].stringValue {
            func literal(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }
            options = " ENCODING \(literal(encoding)) LC_COLLATE \(literal(collate)) LC_CTYPE \(literal(ctype))"
        }
        try execute("CREATE DATABASE \"\(name)\" TEMPLATE template0\(options)", database: database)
    }

    /// Puts a drill's marker on the scratch database it just created (CREATE DATABASE cannot share a
    /// transaction with anything, so this is a statement of its own).
    func markScratchDatabase(_ name: String, marker: DrillMarker, database: String) throws {
        try execute("COMMENT ON DATABASE \"\(name)\" IS \(Self.literal(marker.comment))", database: database)
    }

    /// Drops a scratch database, ending any session still on it (PostgreSQL 13+: a killed drill's psql may not
    /// have gone yet).
    func dropScratchDatabase(_ name: String, database: String, serverVersion: Int) throws {
        let force = serverVersion >= 130_000 ? " WITH (FORCE)" : ""
        try execute("DROP DATABASE IF EXISTS \"\(name)\"\(force)", database: database)
    }

    /// The data rows of every ordinary table (partitions included, partitioned parents having none) counted with
    /// `FROM ONLY`, as pg_dump's COPY blocks hold them, by name as pg_dump quotes it; and the large objects under
    /// `TableRowCounter.largeObjectsKey`. One query: the server builds each count's SQL itself.
    func rowCounts(database: String) throws -> [String: Int64] {
        let sql = """
            SELECT coalesce(json_object_agg(t.name, t.rows), '{}') FROM (
              SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name,
                substring(query_to_xml(format('SELECT count(*) AS c FROM ONLY %I.%I', n.nspname, c.relname),
                                       false, true, '')::text FROM '<c>([0-9]+)</c>')::bigint AS rows
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE c.relkind = 'r' AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'
              UNION ALL
              SELECT '\(TableRowCounter.largeObjectsKey)', count(*) FROM pg_largeobject_metadata) t
            """
        guard case let .object(fields) = try queryJSON(sql, database: database) else { return [:] }
        var counts: [String: Int64] = [:]
        for (name, value) in fields { counts[name] = value.int64Value ?? 0 }
        return counts
    }

    func execute(_ sql: String, database: String) throws {
        _ = try query(sql, database: database)
    }

    func queryJSON(_ sql: String, database: String) throws -> JSON {
        let text = try query(sql, database: database)
        do { return try JSON.parse(text.trimmingCharacters(in: .whitespacesAndNewlines)) } catch {
            throw BackupError.databaseUnreachable("unexpected answer from the server: \(error)")
        }
    }

    /// Runs `sql`; psql's message on failure, as `databaseUnreachable` when it could not connect.
    private func query(_ sql: String, database: String) throws -> String {
        let result = try BackupError.mapping { try ChildProcess.run(queryCommand(sql, database: database)) }
        guard result.status == 0 else {
            let message = redact(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
            if message.contains("could not connect") || message.contains("connection to server") {
                throw BackupError.databaseUnreachable(message)
            }
            throw BackupError.restoreFailed(message.isEmpty ? "psql exited with \(result.status)" : message)
        }
        return result.stdout
    }
}
