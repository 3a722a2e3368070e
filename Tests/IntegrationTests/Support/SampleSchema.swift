import Foundation
import TestSupport

/// A database with the kinds of things a backup tool gets wrong: several thousand rows, a sequence, an
/// index, a view, a plpgsql function, unicode, bytea with zero bytes, jsonb, a large object, a table
/// without a primary key and a canary row. Content is deterministic, so two loads dump alike.
enum SampleSchema {
    static let canaryValue = "canary-original-7f3a"
    static let largeObjectText = "large object ✓ with a zero byte:"
    /// Tables and the row counts `sql` creates.
    static let rowCounts: [String: Int] = [
        "customers": 3_000, "orders": 5_000, "notes": 6, "binaries": 4, "documents": 500,
        "event_log": 2_002, "canary": 1, "attachments": 1,
    ]

    static let sql = #"""
        CREATE SEQUENCE invoice_number_seq START 1000;
        CREATE TABLE customers (
            id serial PRIMARY KEY,
            name text NOT NULL,
            email text UNIQUE,
            joined timestamptz NOT NULL DEFAULT '2024-01-01 00:00:00+00'
        );
        INSERT INTO customers (name, email)
            SELECT 'customer ' || g, 'c' || g || '@example.test' FROM generate_series(1, 3000) g;
        CREATE TABLE orders (
            id bigserial PRIMARY KEY,
            customer_id int NOT NULL REFERENCES customers (id),
            invoice_no bigint NOT NULL DEFAULT nextval('invoice_number_seq'),
            amount numeric(12, 2) NOT NULL,
            placed_on date NOT NULL
        );
        INSERT INTO orders (customer_id, amount, placed_on)
            SELECT (g % 3000) + 1, (g * 7 % 10000) / 100.0, date '2024-01-01' + (g % 365)
            FROM generate_series(1, 5000) g;
        CREATE INDEX orders_placed_on_idx ON orders (placed_on);
        CREATE VIEW customer_totals AS
            SELECT c.id, c.name, count(o.id) AS order_count, coalesce(sum(o.amount), 0) AS total
            FROM customers c LEFT JOIN orders o ON o.customer_id = c.id
            GROUP BY c.id, c.name;
        CREATE FUNCTION order_total(cid int) RETURNS numeric LANGUAGE plpgsql STABLE AS $fn$
        DECLARE
            result numeric;
        BEGIN
            SELECT coalesce(sum(amount), 0) INTO result FROM orders WHERE customer_id = cid;
            RETURN result;
        END
        $fn$;
        CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL);
        INSERT INTO notes VALUES
            (1, 'emoji 😀🎉👩‍👩‍👧 flags 🇳🇴'),
            (2, 'CJK 漢字とかな 中文 한국어'),
            (3, U&'combining e\0301 a\030A o\0308 vs precomposed é å ö'),
            (4, 'tab	and newline
        inside, backslash \ and quote '' and "double"'),
            (5, 'RTL עברית العربية'),
            (6, repeat('long text ', 2000));
        CREATE TABLE binaries (id int PRIMARY KEY, data bytea NOT NULL);
        INSERT INTO binaries VALUES
            (1, '\x00010200ff00'::bytea),
            (2, decode(repeat('00', 4096), 'hex')),
            (3, sha256('x'::bytea) || '\x0000'::bytea || sha256('y'::bytea)),
            (4, ''::bytea);
        CREATE TABLE documents (id int PRIMARY KEY, doc jsonb NOT NULL);
        INSERT INTO documents
            SELECT g, jsonb_build_object('n', g, 'tags', jsonb_build_array('a', 'b', g % 7),
                                         'nested', jsonb_build_object('even', g % 2 = 0, 'name', 'ñ' || g))
            FROM generate_series(1, 500) g;
        CREATE TABLE event_log (happened_at timestamptz, message text);
        INSERT INTO event_log
            SELECT timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute', 'event ' || g
            FROM generate_series(1, 2000) g;
        INSERT INTO event_log VALUES (NULL, 'duplicate row'), (NULL, 'duplicate row');
        CREATE TABLE canary (id int PRIMARY KEY, value text NOT NULL);
        INSERT INTO canary VALUES (1, 'canary-original-7f3a');
        CREATE TABLE attachments (id int PRIMARY KEY, blob oid NOT NULL);
        INSERT INTO attachments
            VALUES (1, lo_from_bytea(0, convert_to('large object ✓ with a zero byte:', 'UTF8') || '\x00ff00'::bytea));
        SELECT setval('invoice_number_seq', 7777);
        """#

    static func load(into database: String, on cluster: PostgresCluster) throws {
        try cluster.psql(sql, database: database)
    }

    /// The hex of the large object's bytes as `load` writes them.
    static var largeObjectHex: String {
        Data(largeObjectText.utf8).map { String(format: "%02x", $0) }.joined() + "00ff00"
    }
}

/// The facts about a database that tests compare, read with plain SQL.
struct DatabaseFacts: Equatable, CustomStringConvertible {
    var rowCounts: [String: Int]
    var canary: String?
    var largeObjects: [String]  // hex of each large object, by oid order
    var sequenceValue: String?

    var description: String {
        "rows \(rowCounts.sorted { $0.key < $1.key }), canary \(canary ?? "nil"), \(largeObjects.count) large objects, seq \(sequenceValue ?? "nil")"
    }

    static func read(_ database: String, on cluster: PostgresCluster) throws -> DatabaseFacts {
        let tables = try cluster.psql(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1", database: database
        ).split(separator: "\n").map(String.init)
        var counts: [String: Int] = [:]
        for table in tables {
            counts[table] = Int(try cluster.psql("SELECT count(*) FROM public.\"\(table)\"", database: database))
        }
        let canary = tables.contains("canary")
            ? try cluster.psql("SELECT value FROM canary WHERE id = 1", database: database) : nil
        let objects = try cluster.psql(
            "SELECT encode(lo_get(oid), 'hex') FROM pg_largeobject_metadata ORDER BY oid", database: database
        ).split(separator: "\n").map(String.init)
        let hasSequence = try cluster.psql(
            "SELECT count(*) FROM pg_class WHERE relname = 'invoice_number_seq'", database: database) == "1"
        let sequence = hasSequence ? try cluster.psql("SELECT last_value FROM invoice_number_seq", database: database) : nil
        return DatabaseFacts(rowCounts: counts, canary: canary, largeObjects: objects, sequenceValue: sequence)
    }
}
