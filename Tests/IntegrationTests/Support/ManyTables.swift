import Foundation
import TestSupport

/// A database of thousands of small tables (`t1` … `tN`, one serial key each, one row in every 100th), the shape
/// that meets PostgreSQL's lock wall in a single-transaction restore: each table is three lockable objects (table,
/// sequence, primary key index), so 4,000 of them are 12,000 lock-table entries on a server that holds 6,400.
/// Made in autocommit batches through psql, so the set-up itself never holds more than one table's locks.
enum ManyTables {
    static let defaultCount = 4_000

    static func load(into database: String, on cluster: PostgresCluster, tables: Int = defaultCount) throws {
        for batch in stride(from: 1, through: tables, by: 500) {
            let last = min(tables, batch + 499)
            var script = ""
            for index in batch...last {
                script += "CREATE TABLE t\(index) (id serial PRIMARY KEY);\n"
                if index % 100 == 0 { script += "INSERT INTO t\(index) DEFAULT VALUES;\n" }
            }
            let result = try cluster.psqlScript(Data(script.utf8), database: database)
            guard result.status == 0 else { throw HarnessError.commandFailed("ManyTables batch \(batch)", result) }
        }
    }

    /// The tables in `database` and the rows in them, one query: to prove a restore brought back every table.
    static func census(_ database: String, on cluster: PostgresCluster) throws -> String {
        try cluster.psql("""
            SELECT count(*) || ' tables, ' || coalesce(sum((xpath('/row/c/text()',
                     query_to_xml(format('SELECT count(*) AS c FROM %I', tablename), false, true, '')))[1]::text::int), 0)
                   || ' rows' FROM pg_tables WHERE schemaname = 'public'
            """, database: database)
    }
}
