import Foundation

extension PostgresTools {
    /// The three settings that size the lock table, the entries other sessions hold now, and the target's own
    /// objects (every user object a DROP would lock: relations with their TOAST, types, constraints, defaults,
    /// functions, triggers, rules, large objects, schemas — oid 16384 and up is not the system's). One query.
    func lockCapacity(database: String) throws -> LockCapacity {
        let user = "WHERE oid >= 16384"
        let catalogs = ["pg_class", "pg_type", "pg_constraint", "pg_attrdef", "pg_proc", "pg_trigger", "pg_rewrite",
                        "pg_largeobject_metadata", "pg_namespace"]
        let sql = """
            SELECT json_build_object(
              'max_locks', current_setting('max_locks_per_transaction')::bigint,
              'max_connections', current_setting('max_connections')::bigint,
              'max_prepared', current_setting('max_prepared_transactions')::bigint,
              'held', (SELECT count(*) FROM (SELECT DISTINCT locktype, database, relation, page, tuple, virtualxid,
                         transactionid, classid, objid, objsubid FROM pg_locks
                       WHERE NOT fastpath AND pid IS DISTINCT FROM pg_backend_pid()) l),
              'target', \(catalogs.map { "(SELECT count(*) FROM pg_catalog.\($0) \(user))" }.joined(separator: " + ")))
            """
        let answer = try queryJSON(sql, database: database)
        func number(_ key: String) throws -> Int64 {
            guard let value = answer[key]?.int64Value else {
                throw BackupError.databaseUnreachable("unexpected answer from the server: no \(key) in \(answer)")
            }
            return value
        }
        return LockCapacity(maxLocksPerTransaction: try number("max_locks"), maxConnections: try number("max_connections"),
                            maxPreparedTransactions: try number("max_prepared"), heldByOthers: try number("held"),
                            targetObjects: try number("target"))
    }
}
