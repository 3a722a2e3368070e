import Foundation
import Testing

@testable import BackupCore

@Suite("RestoreFilter")
struct RestoreFilterTests {
    static let note = " (pgbackup: one transaction for the whole restore)"

    /// Runs the filter over `chunks` and returns what it emitted and how many lines it commented out.
    static func run(_ chunks: [ArraySlice<UInt8>]) throws -> (output: [UInt8], neutralised: Int) {
        var filter = RestoreFilter()
        var output = [UInt8]()
        for chunk in chunks {
            try Array(chunk).withUnsafeBytes { raw in try filter.process(raw) { output.append(contentsOf: $0) } }
        }
        try filter.finish { output.append(contentsOf: $0) }
        return (output, filter.neutralised)
    }

    static func run(_ text: [UInt8], chunkSize: Int = Int.max) throws -> (output: [UInt8], neutralised: Int) {
        var chunks: [ArraySlice<UInt8>] = []
        var offset = 0
        while offset < text.count {
            let end = min(offset + chunkSize, text.count)
            chunks.append(text[offset..<end])
            offset = end
        }
        return try run(chunks)
    }

    /// The dump pg_dump 15.18 wrote for a table, a plpgsql function and one large object (trimmed), plus a
    /// single-column table whose rows are literally BEGIN; and COMMIT;.
    static let dumpWithLargeObjects = """
        --
        -- PostgreSQL database dump
        --

        \\restrict vadg123ZRFkCRuBkLp2P2i7rKmSOaSnmb2gqsT9G6THlIDHTvp2AM2kLEqo0lld

        SET statement_timeout = 0;
        SELECT pg_catalog.lo_unlink(oid) FROM pg_catalog.pg_largeobject_metadata WHERE oid = '16389';
        DROP TABLE IF EXISTS public.t;
        DROP FUNCTION IF EXISTS public.f();
        --
        -- Name: f(); Type: FUNCTION; Schema: public; Owner: -
        --

        CREATE FUNCTION public.f() RETURNS integer
            LANGUAGE plpgsql
            AS $$
        BEGIN;
          RETURN 1;
        COMMIT;
        $$;


        --
        -- Name: 16389; Type: BLOB; Schema: -; Owner: -
        --

        SELECT pg_catalog.lo_create('16389');


        --
        -- Data for Name: t; Type: TABLE DATA; Schema: public; Owner: -
        --

        COPY public.t (s) FROM stdin;
        BEGIN;
        COMMIT;
        \\.


        --
        -- Data for Name: BLOBS; Type: BLOBS; Schema: -; Owner: -
        --

        BEGIN;

        SELECT pg_catalog.lo_open('16389', 131072);
        SELECT pg_catalog.lowrite(0, '\\x68656c6c6f');
        SELECT pg_catalog.lo_close(0);

        COMMIT;

        --
        -- Data for Name: t2; Type: TABLE DATA; Schema: public; Owner: -
        --

        COPY public.t2 (s) FROM stdin;
        BEGIN;
        COMMIT;
        \\.


        --
        -- PostgreSQL database dump complete
        --

        \\unrestrict vadg123ZRFkCRuBkLp2P2i7rKmSOaSnmb2gqsT9G6THlIDHTvp2AM2kLEqo0lld

        """

    /// The input with exactly the large-object section's BEGIN;/COMMIT; commented out.
    static var expectedForDumpWithLargeObjects: String {
        let blobs = "BEGIN;\n\nSELECT pg_catalog.lo_open"
        let commit = "SELECT pg_catalog.lo_close(0);\n\nCOMMIT;\n"
        return dumpWithLargeObjects
            .replacingOccurrences(of: blobs, with: "-- BEGIN;\(note)\n\nSELECT pg_catalog.lo_open")
            .replacingOccurrences(of: commit, with: "SELECT pg_catalog.lo_close(0);\n\n-- COMMIT;\(note)\n")
    }

    @Test("BEGIN;/COMMIT; of the large-object section are commented out, nothing else changes")
    func largeObjectSection() throws {
        let (output, neutralised) = try Self.run(Array(Self.dumpWithLargeObjects.utf8))
        #expect(String(decoding: output, as: UTF8.self) == Self.expectedForDumpWithLargeObjects)
        #expect(neutralised == 2)
    }

    @Test("the PostgreSQL 17 section names are recognised too", arguments: ["BLOB DATA", "LARGE OBJECTS", "BLOB"])
    func otherLargeObjectHeaders(type: String) throws {
        let text = "--\n-- Data for Name: BLOBS; Type: \(type); Schema: -; Owner: -\n--\n\nBEGIN;\nSELECT 1;\nCOMMIT;\n"
        let (output, neutralised) = try Self.run(Array(text.utf8))
        #expect(String(decoding: output, as: UTF8.self)
            == "--\n-- Data for Name: BLOBS; Type: \(type); Schema: -; Owner: -\n--\n\n-- BEGIN;\(Self.note)\nSELECT 1;\n-- COMMIT;\(Self.note)\n")
        #expect(neutralised == 2)
    }

    @Test("BEGIN;/COMMIT; outside the large-object section pass unchanged")
    func otherSectionsUnchanged() throws {
        let text = """
            --
            -- Name: f(); Type: FUNCTION; Schema: public; Owner: -
            --

            CREATE FUNCTION public.f() RETURNS void LANGUAGE sql AS $$
            BEGIN;
            COMMIT;
            $$;
            BEGIN;
            COMMIT;

            """
        let (output, neutralised) = try Self.run(Array(text.utf8))
        #expect(output == Array(text.utf8))
        #expect(neutralised == 0)
    }

    @Test("COPY data passes unchanged and the large-object section after it is neutralised")
    func copyDataThenLargeObjects() throws {
        let text = """
            --
            -- Data for Name: t; Type: TABLE DATA; Schema: public; Owner: -
            --

            COPY public.t (s) FROM stdin;
            BEGIN;
            COMMIT;
            --
            -- Name: x; Type: BLOBS; Schema: public; Owner: -
            --
            BEGIN;
            \\.

            --
            -- Data for Name: BLOBS; Type: BLOBS; Schema: -; Owner: -
            --

            BEGIN;

            COMMIT;

            """
        let (output, neutralised) = try Self.run(Array(text.utf8))
        let expected = text.replacingOccurrences(of: "--\n\nBEGIN;\n\nCOMMIT;\n", with: "--\n\n-- BEGIN;\(Self.note)\n\n-- COMMIT;\(Self.note)\n")
        #expect(String(decoding: output, as: UTF8.self) == expected)
        #expect(neutralised == 2)
    }

    @Test("a line only resembling BEGIN; is not touched")
    func lookalikes() throws {
        let text = "-- Data for Name: BLOBS; Type: BLOBS; Schema: -; Owner: -\nBEGIN; \n begin;\nBEGIN\nCOMMIT;;\nbegin;\n"
        let (output, neutralised) = try Self.run(Array(text.utf8))
        #expect(output == Array(text.utf8))
        #expect(neutralised == 0)
    }

    @Test("a 1 MB COPY row passes through byte for byte", arguments: [Int.max, 65_536, 4096, 4097, 1000])
    func longCopyRow(chunkSize: Int) throws {
        let row = SampleData.text(bytes: 1 << 20, seed: 5).map { $0 == 0x0a ? 0x20 : $0 }
        var input = Array("-- Data for Name: BLOBS; Type: BLOBS; Schema: -; Owner: -\nCOPY public.t (s) FROM stdin;\n".utf8)
        input += row + [0x0a]
        input += Array("BEGIN;\n\\.\n".utf8)
        let (output, neutralised) = try Self.run(input, chunkSize: chunkSize)
        #expect(byteDifference(output, input) == nil)
        #expect(neutralised == 0)
    }

    @Test("a very long line outside COPY passes through byte for byte")
    func longStatement() throws {
        let input = Array(("SELECT '" + String(repeating: "x", count: 300_000) + "';\nBEGIN;\n").utf8)
        #expect(byteDifference(try Self.run(input).output, input) == nil)
        #expect(byteDifference(try Self.run(input, chunkSize: 4096).output, input) == nil)
    }

    @Test("a last line without a newline is flushed by finish")
    func lastLineWithoutNewline() throws {
        let input = Array("SELECT 1;\n\\unrestrict abc".utf8)
        #expect(try Self.run(input).output == input)
        #expect(try Self.run(input, chunkSize: 3).output == input)
    }

    /// Output and count for the whole input, then for the input cut in two at every possible boundary.
    static func splitMismatches(_ input: [UInt8]) throws -> (reference: (output: [UInt8], neutralised: Int), mismatches: [Int]) {
        let reference = try run(input)
        var mismatches: [Int] = []
        for split in 1..<input.count {
            let result = try run([input[..<split], input[split...]])
            if result.output != reference.output || result.neutralised != reference.neutralised { mismatches.append(split) }
        }
        return (reference, mismatches)
    }

    @Test("splitting the sample dump at every possible boundary gives the same output")
    func everySplit() throws {
        let (reference, mismatches) = try Self.splitMismatches(Array(Self.dumpWithLargeObjects.utf8))
        #expect(String(decoding: reference.output, as: UTF8.self) == Self.expectedForDumpWithLargeObjects)
        #expect(mismatches.isEmpty, "\(mismatches.count) split points differ, first: \(mismatches.prefix(5))")
        #expect(byteDifference(try Self.run(Array(Self.dumpWithLargeObjects.utf8), chunkSize: 1).output, reference.output) == nil)
    }

    @Test("splitting a dump with a COPY row over 4 KiB at every possible boundary gives the same output")
    func everySplitWithLongRow() throws {
        // The row is made of BEGIN; so any slip out of COPY mode would show once the large-object section starts.
        let longRow = String(repeating: "BEGIN;", count: 690)
        let text = """
            --
            -- Data for Name: t; Type: TABLE DATA; Schema: public; Owner: -
            --

            COPY public.t (s) FROM stdin;
            \(longRow)
            BEGIN;
            \\.

            --
            -- Data for Name: BLOBS; Type: BLOBS; Schema: -; Owner: -
            --
            BEGIN;
            COMMIT;

            """
        let input = Array(text.utf8)
        let (reference, mismatches) = try Self.splitMismatches(input)
        let expected = text.replacingOccurrences(of: "--\nBEGIN;\nCOMMIT;\n", with: "--\n-- BEGIN;\(Self.note)\n-- COMMIT;\(Self.note)\n")
        #expect(String(decoding: reference.output, as: UTF8.self) == expected)
        #expect(reference.neutralised == 2)
        #expect(mismatches.isEmpty, "\(mismatches.count) split points differ, first: \(mismatches.prefix(5))")
        #expect(byteDifference(try Self.run(input, chunkSize: 1).output, reference.output) == nil)
    }

    // Found while testing: whether a long COPY line enters COPY mode depends on how many of its bytes were held
    // when it overflowed, so the usual case (the whole line in one read) is missed.
    @Test(
        "a COPY … FROM stdin; line longer than 4 KiB still enters COPY mode",
        arguments: [Int.max, 3, 5, 4096, 1 << 16])
    func longCopyHeader(chunkSize: Int) throws {
        let columns = (0..<700).map { "column_\($0)" }.joined(separator: ", ")
        let header = "COPY public.wide (\(columns)) FROM stdin;"
        #expect(header.utf8.count > 4096)
        // Data rows that would be mistaken for a large-object header and its BEGIN;/COMMIT; if COPY mode were missed.
        let text = """
            --
            -- Data for Name: wide; Type: TABLE DATA; Schema: public; Owner: -
            --

            \(header)
            --
            -- Data for Name: BLOBS; Type: BLOBS; Schema: -; Owner: -
            --
            BEGIN;
            COMMIT;
            \\.

            """
        let (output, neutralised) = try Self.run(Array(text.utf8), chunkSize: chunkSize)
        #expect(byteDifference(output, Array(text.utf8)) == nil)
        #expect(neutralised == 0)
    }

    // Found while testing: the section state is read from any line that looks like a pg_dump header, including
    // lines inside a dollar-quoted function body, which a database user controls.
    @Test("a function body that looks like a large-object header keeps its COMMIT;")
    func fakeHeaderInFunctionBody() throws {
        let text = """
            --
            -- Name: f(); Type: FUNCTION; Schema: public; Owner: -
            --

            CREATE FUNCTION public.f() RETURNS void
                LANGUAGE sql
                AS $$
            -- Data for Name: BLOBS; Type: BLOBS; Schema: -; Owner: -
            COMMIT;
            $$;

            """
        let (output, neutralised) = try Self.run(Array(text.utf8))
        #expect(byteDifference(output, Array(text.utf8)) == nil)
        #expect(neutralised == 0)
    }

    @Test("a function body line that looks like a COPY header does not hide the large-object section")
    func fakeCopyInFunctionBody() throws {
        let text = """
            --
            -- Name: f(); Type: FUNCTION; Schema: public; Owner: -
            --

            CREATE FUNCTION public.f() RETURNS void
                LANGUAGE sql
                AS $$
            COPY x FROM stdin;
            $$;


            --
            -- Data for Name: BLOBS; Type: BLOBS; Schema: -; Owner: -
            --

            BEGIN;

            SELECT pg_catalog.lo_open('16389', 131072);
            SELECT pg_catalog.lo_close(0);

            COMMIT;

            """
        let (_, neutralised) = try Self.run(Array(text.utf8))
        // Both of pg_dump's own BEGIN;/COMMIT; must be neutralised, or the restore commits half-way.
        #expect(neutralised == 2)
    }

    @Test("A load without an outer transaction leaves the large-object BEGIN;/COMMIT; as they are")
    func keepsTransactionsForALoad() throws {
        var filter = RestoreFilter()
        filter.neutralisesLargeObjectTransactions = false
        var output = [UInt8]()
        try Array(Self.dumpWithLargeObjects.utf8).withUnsafeBytes { raw in
            try filter.process(raw) { output.append(contentsOf: $0) }
        }
        try filter.finish { output.append(contentsOf: $0) }
        #expect(String(decoding: output, as: UTF8.self) == Self.dumpWithLargeObjects)
        #expect(filter.neutralised == 0)
    }
}
