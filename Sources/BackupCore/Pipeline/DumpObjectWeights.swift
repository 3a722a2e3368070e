import Foundation

/// How many lock-table entries restoring one pg_dump TOC entry takes, measured with `pg_locks` (distinct lock tags
/// of the restoring session before COMMIT, PostgreSQL 15): a relation is one entry, whatever modes it is locked in.
enum DumpObjectWeights {
    /// The TOAST table and its index the server makes for a table with a column that is not of fixed width.
    static let toastObjects: Int64 = 2

    /// Entries that create no lockable object of their own: they lock what another entry created (a table's
    /// data, default, attached partition), or nothing that stays locked (comments, grants, settings).
    private static let free: Set<String> = [
        "TABLE DATA", "DEFAULT", "FK CONSTRAINT", "SEQUENCE OWNED BY", "SEQUENCE SET", "COMMENT", "ACL",
        "DEFAULT ACL", "INDEX ATTACH", "TABLE ATTACH", "MATERIALIZED VIEW DATA", "TRIGGER", "EVENT TRIGGER",
        "ENCODING", "STDSTRINGS", "SEARCHPATH", "DATABASE PROPERTIES", "DATABASE", "SECURITY LABEL", "POLICY",
        "ROW SECURITY", "PUBLICATION TABLE", "PUBLICATION TABLES IN SCHEMA", "SUBSCRIPTION", "BLOB", "BLOBS",
        "BLOB DATA", "BLOB METADATA", "LARGE OBJECT",
    ]

    /// Entries that make a relation and, as far as the dump says, its TOAST table and index too.
    private static let withToast: Set<String> = ["MATERIALIZED VIEW"]

    /// Lock-table entries for one TOC entry of `type`. A TABLE counts one here and its TOAST once its columns are
    /// read; large objects count per `lo_create` line, not per entry (pg_dump 17 groups them). Anything else (an
    /// index, a constraint's index, a sequence, a view, a function or type whose owner is set) counts one: an
    /// unknown kind is better counted than not.
    static func weight(of type: String) -> Int64 {
        if free.contains(type) { return 0 }
        if withToast.contains(type) { return 1 + toastObjects }
        // A composite type is a relation of its own besides the type (its owner is set: both are locked).
        if type == "TYPE" { return 2 }
        return 1
    }

    /// The types whose values are never TOASTed (fixed width), as pg_dump writes a column's type.
    private static let fixedWidth = [
        "smallint", "integer", "bigint", "real", "double precision", "boolean", "date", "uuid", "oid", "money",
        "interval", "time without time zone", "time with time zone", "timestamp without time zone",
        "timestamp with time zone", "macaddr", "macaddr8", "pg_lsn", "\"char\"", "point",
    ]

    /// Whether a line of pg_dump's CREATE TABLE column list cannot make the table need TOAST: a column of a
    /// fixed-width type (`    id integer NOT NULL,`), or a table constraint. Anything not understood needs TOAST.
    static func isFixedWidthColumn(_ line: String) -> Bool {
        var rest = Substring(line.drop { $0 == " " })
        if rest.hasPrefix("CONSTRAINT ") { return true }
        if rest.first == "\"" {
            guard let close = rest.dropFirst().firstIndex(of: "\"") else { return false }
            rest = rest[rest.index(after: close)...]
        } else {
            rest = rest.drop { $0 != " " }
        }
        rest = rest.drop { $0 == " " }
        return fixedWidth.contains { type in
            guard rest.hasPrefix(type) else { return false }
            let after = rest.dropFirst(type.count).first
            return after == nil || after == " " || after == ","
        }
    }
}
