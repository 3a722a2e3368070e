import Foundation
import Testing

@testable import BackupCore

@Suite("LockableObjectCounter")
struct LockableObjectCounterTests {
    /// pg_dump 15's text for a schema, a composite type, a function, tables with and without TOAST, a partitioned
    /// table with two partitions, sequences, a view, a materialized view, three large objects, two constraint
    /// indexes and four indexes. Restored in one transaction on PostgreSQL 15 it held 37 distinct lock tags
    /// before COMMIT (26 of them the objects below, the rest catalogs and the transaction's own).
    static let dump = """
        --
        -- PostgreSQL database dump
        --

        --
        -- Name: other; Type: SCHEMA; Schema: -; Owner: postgres
        --

        CREATE SCHEMA other;

        --
        -- Name: ty; Type: TYPE; Schema: public; Owner: postgres
        --

        CREATE TYPE public.ty AS (
        \ta integer,
        \tb text
        );

        --
        -- Name: f(); Type: FUNCTION; Schema: public; Owner: postgres
        --

        CREATE FUNCTION public.f() RETURNS integer
            LANGUAGE sql
            AS $$
        COPY public.t1 (id) FROM stdin;
        --
        -- Name: fake; Type: TABLE; Schema: public; Owner: postgres
        --
        $$;

        --
        -- Name: t1; Type: TABLE; Schema: public; Owner: postgres
        --

        CREATE TABLE public.t1 (
            id integer NOT NULL,
            name text,
            body text
        );

        --
        -- Name: mv; Type: MATERIALIZED VIEW; Schema: public; Owner: postgres
        --

        CREATE MATERIALIZED VIEW public.mv AS
         SELECT t1.id,
            t1.name
           FROM public.t1
          WITH NO DATA;

        --
        -- Name: p; Type: TABLE; Schema: public; Owner: postgres
        --

        CREATE TABLE public.p (
            id integer,
            k integer
        )
        PARTITION BY RANGE (k);

        --
        -- Name: p1; Type: TABLE; Schema: public; Owner: postgres
        --

        CREATE TABLE public.p1 (
            id integer,
            "Mixed Case" bigint DEFAULT 0 NOT NULL,
            k integer
        );

        --
        -- Name: p2; Type: TABLE; Schema: public; Owner: postgres
        --

        CREATE TABLE public.p2 (
            id integer,
            k integer,
            CONSTRAINT k_positive CHECK ((k > 0))
        );

        --
        -- Name: s1; Type: SEQUENCE; Schema: public; Owner: postgres
        --

        CREATE SEQUENCE public.s1
            START WITH 1
            CACHE 1;

        --
        -- Name: t1_id_seq; Type: SEQUENCE; Schema: public; Owner: postgres
        --

        CREATE SEQUENCE public.t1_id_seq
            AS integer
            START WITH 1
            CACHE 1;

        --
        -- Name: t1_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: postgres
        --

        ALTER SEQUENCE public.t1_id_seq OWNED BY public.t1.id;

        --
        -- Name: t2; Type: TABLE; Schema: public; Owner: postgres
        --

        CREATE TABLE public.t2 (
            id integer,
            v integer
        );

        --
        -- Name: v1; Type: VIEW; Schema: public; Owner: postgres
        --

        CREATE VIEW public.v1 AS
         SELECT t1.id
           FROM public.t1;

        --
        -- Name: p1; Type: TABLE ATTACH; Schema: public; Owner: postgres
        --

        ALTER TABLE ONLY public.p ATTACH PARTITION public.p1 FOR VALUES FROM (0) TO (10);

        --
        -- Name: t1 id; Type: DEFAULT; Schema: public; Owner: postgres
        --

        ALTER TABLE ONLY public.t1 ALTER COLUMN id SET DEFAULT nextval('public.t1_id_seq'::regclass);

        --
        -- Name: 28443; Type: BLOB; Schema: -; Owner: postgres
        --

        SELECT pg_catalog.lo_create('28443');

        --
        -- Name: 28444; Type: BLOB; Schema: -; Owner: postgres
        --

        SELECT pg_catalog.lo_create('28444');

        --
        -- Name: 28445; Type: BLOB; Schema: -; Owner: postgres
        --

        SELECT pg_catalog.lo_create('28445');

        --
        -- Data for Name: t1; Type: TABLE DATA; Schema: public; Owner: postgres
        --

        COPY public.t1 (id, name, body) FROM stdin;
        1\t--\t-- Name: x; Type: INDEX; Schema: public; Owner: postgres
        2\tSELECT pg_catalog.lo_create('1');\tb
        \\.

        --
        -- Data for Name: notes; Type: TABLE DATA; Schema: public; Owner: postgres
        --

        COPY public.notes (line) FROM stdin;
        --
        -- Name: x; Type: INDEX; Schema: public; Owner: postgres
        SELECT pg_catalog.lo_create('1');
        CREATE TABLE public.y (
        \\.

        --
        -- Name: t1_id_seq; Type: SEQUENCE SET; Schema: public; Owner: postgres
        --

        SELECT pg_catalog.setval('public.t1_id_seq', 1, true);

        --
        -- Name: t1 t1_name_key; Type: CONSTRAINT; Schema: public; Owner: postgres
        --

        ALTER TABLE ONLY public.t1
            ADD CONSTRAINT t1_name_key UNIQUE (name);

        --
        -- Name: t1 t1_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
        --

        ALTER TABLE ONLY public.t1
            ADD CONSTRAINT t1_pkey PRIMARY KEY (id);

        --
        -- Name: p_k_idx; Type: INDEX; Schema: public; Owner: postgres
        --

        CREATE INDEX p_k_idx ON ONLY public.p USING btree (k);

        --
        -- Name: p1_k_idx; Type: INDEX; Schema: public; Owner: postgres
        --

        CREATE INDEX p1_k_idx ON public.p1 USING btree (k);

        --
        -- Name: p2_k_idx; Type: INDEX; Schema: public; Owner: postgres
        --

        CREATE INDEX p2_k_idx ON public.p2 USING btree (k);

        --
        -- Name: t2_v; Type: INDEX; Schema: public; Owner: postgres
        --

        CREATE INDEX t2_v ON public.t2 USING btree (v);

        --
        -- Name: p1_k_idx; Type: INDEX ATTACH; Schema: public; Owner: postgres
        --

        ALTER INDEX public.p_k_idx ATTACH PARTITION public.p1_k_idx;

        --
        -- Name: t2 fk; Type: FK CONSTRAINT; Schema: public; Owner: postgres
        --

        ALTER TABLE ONLY public.t2
            ADD CONSTRAINT fk FOREIGN KEY (id) REFERENCES public.t1(id);

        --
        -- Name: mv; Type: MATERIALIZED VIEW DATA; Schema: public; Owner: postgres
        --

        REFRESH MATERIALIZED VIEW public.mv;

        --
        -- PostgreSQL database dump complete
        --

        """

    static func count(_ text: String, chunk: Int = 1 << 16) throws -> Int64 {
        let counter = LockableObjectCounter(next: DiscardSink())
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + chunk)
            try bytes[offset..<end].withUnsafeBytes { try counter.write($0) }
            offset = end
        }
        try counter.finish()
        return counter.count
    }

    @Test("each kind of object is weighed; text in a function body or in rows is not counted")
    func realisticDump() throws {
        // schema 1, composite type 2, function 1, t1 with TOAST 3, matview with TOAST 3, p, p1, p2, t2 1 each,
        // two sequences, a view, three large objects, two constraint indexes, four indexes.
        #expect(try Self.count(Self.dump) == 1 + 2 + 1 + 3 + 3 + 4 + 2 + 1 + 3 + 2 + 4)
    }

    @Test("the count is the same whatever the chunk boundaries")
    func chunking() throws {
        let whole = try Self.count(Self.dump)
        for size in [1, 2, 7, 64, 333] { #expect(try Self.count(Self.dump, chunk: size) == whole) }
    }

    @Test("a table of a serial key is three entries: table, sequence, primary key index; no TOAST")
    func serialKeyTable() throws {
        let table = """
            --
            -- Name: t1; Type: TABLE; Schema: public; Owner: postgres
            --

            CREATE TABLE public.t1 (
                id integer NOT NULL
            );

            --
            -- Name: t1_id_seq; Type: SEQUENCE; Schema: public; Owner: postgres
            --

            CREATE SEQUENCE public.t1_id_seq
                AS integer;

            --
            -- Name: t1 t1_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
            --

            ALTER TABLE ONLY public.t1
                ADD CONSTRAINT t1_pkey PRIMARY KEY (id);

            """
        #expect(try Self.count(table) == 3)
        #expect(try Self.count(String(repeating: table, count: 100)) == 300)
    }

    @Test("a table of a type or without a column list counts its TOAST; pg_dump 17's grouped large objects count one each")
    func otherShapes() throws {
        let text = """
            --
            -- Name: typed; Type: TABLE; Schema: public; Owner: postgres
            --

            CREATE TABLE public.typed OF public.ty;

            --
            -- Name: BLOB METADATA; Type: BLOB METADATA; Schema: -; Owner: postgres
            --

            SELECT pg_catalog.lo_create('16400');
            SELECT pg_catalog.lo_create('16401');

            """
        #expect(try Self.count(text) == 3 + 2)
    }

    @Test("fixed-width columns are told from the rest", arguments: [
        ("    id integer NOT NULL,", true), ("    \"a b\" bigint DEFAULT 0", true), ("    at timestamp with time zone", true),
        ("    CONSTRAINT c CHECK ((a > 0))", true), ("    \"char\" \"char\"", true), ("    name text,", false),
        ("    tags integer[],", false), ("    v character varying(10)", false), ("    j public.mytype", false),
        ("    n numeric", false), ("    t timestamp(3) without time zone", false),
    ])
    func fixedWidth(line: String, fixed: Bool) {
        #expect(DumpObjectWeights.isFixedWidthColumn(line) == fixed)
    }
}
