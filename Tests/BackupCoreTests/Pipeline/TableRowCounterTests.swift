import Foundation
import Testing

@testable import BackupCore

@Suite("TableRowCounter")
struct TableRowCounterTests {
    /// A plain dump as pg_dump 15 writes one: a function whose body holds COPY-like text, an empty table, a
    /// one-row table, a quoted name, rows that look like a terminator (`\\.`) or a comment, and two large objects.
    static let dump = """
        --
        -- PostgreSQL database dump
        --

        SET statement_timeout = 0;

        --
        -- Name: f(); Type: FUNCTION; Schema: public; Owner: -
        --

        CREATE FUNCTION public.f() RETURNS void
            LANGUAGE sql
            AS $$
        COPY public.t (a) FROM stdin;
        $$;

        --
        -- Name: 16390; Type: BLOB; Schema: -; Owner: -
        --

        SELECT pg_catalog.lo_create('16390');

        --
        -- Name: 16391; Type: BLOB; Schema: -; Owner: -
        --

        SELECT pg_catalog.lo_create('16391');

        --
        -- Data for Name: empty; Type: TABLE DATA; Schema: public; Owner: -
        --

        COPY public.empty (id) FROM stdin;
        \\.


        --
        -- Data for Name: Mixed Case; Type: TABLE DATA; Schema: public; Owner: -
        --

        COPY public."Mixed Case" ("Id", "some name") FROM stdin;
        1\ta b
        2\t\\\\.
        3\t-- not a comment
        \\\\.
        \\.


        --
        -- Data for Name: one; Type: TABLE DATA; Schema: s p; Owner: -
        --

        COPY "s p".one  FROM stdin;

        \\.


        --
        -- Data for Name: BLOBS; Type: BLOBS; Schema: -; Owner: -
        --

        BEGIN;

        SELECT pg_catalog.lo_open('16390', 131072);
        SELECT pg_catalog.lowrite(0, '\\x41');
        SELECT pg_catalog.lo_close(0);

        COMMIT;

        --
        -- PostgreSQL database dump complete
        --

        """

    static let expected: [String: Int64] = [
        "public.empty": 0, "public.\"Mixed Case\"": 4, "\"s p\".one": 1, TableRowCounter.largeObjectsKey: 2,
    ]

    static func count(_ text: String, pieces: [Int]) throws -> (counts: [String: Int64], passed: [UInt8]) {
        let sink = CollectingStage()
        let counter = TableRowCounter(next: sink)
        try StageRun.feed(Array(text.utf8), to: counter, pieces: pieces)
        #expect(sink.finishCount == 1)
        return (counter.counts, sink.bytes)
    }

    @Test("counts rows, quoted names, empty blocks and large objects; the bytes pass unchanged",
          arguments: [[Int.max], [1], [2], [3], StageRun.oddPieces])
    func counts(pieces: [Int]) throws {
        let (counts, passed) = try Self.count(Self.dump, pieces: pieces)
        #expect(counts == Self.expected)
        #expect(passed == Array(Self.dump.utf8))
    }

    @Test("the same counts whichever byte the input is split at")
    func everySplitPoint() throws {
        let bytes = Array(Self.dump.utf8)
        for split in 0...bytes.count {
            let sink = CollectingStage()
            let counter = TableRowCounter(next: sink)
            try bytes.withUnsafeBytes { raw in
                try counter.write(UnsafeRawBufferPointer(rebasing: raw[0..<split]))
                try counter.write(UnsafeRawBufferPointer(rebasing: raw[split...]))
            }
            try counter.finish()
            #expect(counter.counts == Self.expected, "split at \(split)")
        }
    }

    @Test("a COPY line without pg_dump's TABLE DATA comment before it is not data")
    func copyWithoutAnnouncement() throws {
        let (counts, _) = try Self.count("COPY public.t (a) FROM stdin;\n1\n\\.\n", pieces: [Int.max])
        #expect(counts.isEmpty)
    }

    @Test("many rows, long lines across chunk boundaries")
    func manyRows() throws {
        let row = String(repeating: "x", count: 3000) + "\t\\\\.\n"
        let text = "-- Data for Name: big; Type: TABLE DATA; Schema: public; Owner: -\n--\n\nCOPY public.big (a, b) FROM stdin;\n"
            + String(repeating: row, count: 2000) + "\\.\n"
        let (counts, _) = try Self.count(text, pieces: [4096, 65_537, 1])
        #expect(counts == ["public.big": 2000])
    }

    @Test("the table name as pg_dump wrote it", arguments: [
        ("COPY public.t (a) FROM stdin;", "public.t"),
        ("COPY public.\"a \"\"b\"\" c\" (x) FROM stdin;", "public.\"a \"\"b\"\" c\""),
        ("COPY \"Schema\".\"T\"  FROM stdin;", "\"Schema\".\"T\""),
    ])
    func names(line: String, name: String) {
        let bytes = Array(line.utf8)
        #expect(bytes.withUnsafeBytes { TableRowCounter.tableName($0) } == name)
    }
}
