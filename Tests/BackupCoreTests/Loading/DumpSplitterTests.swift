import Foundation
import Testing

@testable import BackupCore

/// Lanes that record what each got, with every barrier written into every lane's text as `<barrier N>`.
final class RecordingLanes: LoadLanes {
    let count: Int
    var texts: [String]
    var barriers = 0
    private var next = 0

    init(_ count: Int) {
        self.count = count
        texts = Array(repeating: "", count: count)
    }

    func send(_ bytes: UnsafeRawBufferPointer, to lane: Int) throws { texts[lane] += String(decoding: bytes, as: UTF8.self) }

    func barrier() throws {
        barriers += 1
        for lane in 0..<count { texts[lane] += "<barrier \(barriers)>\n" }
    }

    func pickLane() -> Int {
        defer { next = (next + 1) % count }
        return next
    }

    func isBusy(_ lane: Int, adding pending: Int) -> Bool { false }
    func kick() throws {}

    /// Marks sent to each lane; a lane reaches them only when `waitForProgress` runs (everything finishes then).
    var marks: [Int] { sent }
    private(set) var waits = 0
    private lazy var sent = Array(repeating: 0, count: count)
    private lazy var reachedMarks = Array(repeating: 0, count: count)

    func mark(_ lane: Int) throws -> Int {
        sent[lane] += 1
        return sent[lane]
    }

    func reached(_ lane: Int, mark: Int) -> Bool { reachedMarks[lane] >= mark }

    func waitForProgress() throws {
        waits += 1
        reachedMarks = sent
    }

    /// The lane's text from the n-th barrier on (0: from the start) up to the next one.
    func part(_ lane: Int, after barrier: Int) -> String {
        let pieces = texts[lane].components(separatedBy: "\n<barrier ")
        guard barrier < pieces.count else { return "" }
        let piece = pieces[barrier]
        return barrier == 0 ? piece : String(piece.drop { $0 != "\n" }.dropFirst())
    }
}

@Suite("DumpSplitter")
struct DumpSplitterTests {
    /// Feeds `text` in pieces of `piece` bytes (so lines straddle writes) and finishes.
    static func split(_ text: String, lanes: Int, piece: Int = 7, chunkLimit: Int = 1 << 20) throws -> RecordingLanes {
        let recorder = RecordingLanes(lanes)
        let splitter = DumpSplitter(lanes: recorder, chunkLimit: chunkLimit)
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + piece)
            try bytes[offset..<end].withUnsafeBytes { try splitter.write($0) }
            offset = end
        }
        try splitter.finish()
        return recorder
    }

    @Test("the preamble's settings reach every lane, the schema goes to lane 0 before the first barrier")
    func preambleAndSchema() throws {
        let lanes = try Self.split(SplitterSampleDump.text, lanes: 3)
        for lane in 0..<3 {
            let start = lanes.part(lane, after: 0)
            #expect(start.contains("\\restrict KEY\n"), "lane \(lane)")
            #expect(start.contains("SET lock_timeout = '300s';\n"), "lane \(lane)")
            #expect(start.contains("SELECT pg_catalog.set_config('search_path', '', false);\n"), "lane \(lane)")
            #expect(start.contains("SET default_tablespace = '';\n"), "lane \(lane)")
            #expect(lanes.texts[lane].components(separatedBy: "\\unrestrict KEY\n").count == 2, "once, on lane \(lane)")
            #expect(lanes.texts[lane].components(separatedBy: "\\unrestrict").count == 2, "once, on lane \(lane)")
        }
        let schema = lanes.part(0, after: 0)
        #expect(schema.contains("CREATE TABLE public.big (") && schema.contains("CREATE FUNCTION public.f()"))
        #expect(schema.contains("DROP TABLE IF EXISTS public.big;"))
        #expect(!lanes.part(1, after: 0).contains("CREATE TABLE"))
        #expect(!lanes.part(1, after: 0).contains("DROP TABLE"), "drops are not settings")
        // The function body's COPY-looking and SET-looking lines stay in its body, on lane 0 only.
        #expect(schema.contains("SET default_tablespace = 'x';\nCOPY public.big (id) FROM stdin;\n$$;"))
        #expect(!lanes.part(2, after: 0).contains("'x'"))
    }

    @Test("a big table's rows are cut into valid COPY statements on different lanes, order kept in each")
    func copyChunks() throws {
        let lanes = try Self.split(SplitterSampleDump.text, lanes: 3, chunkLimit: 60)
        var rows: [Int] = []
        for lane in 0..<3 {
            let data = lanes.part(lane, after: 1)
            let statements = data.components(separatedBy: "COPY public.big (id, note) FROM stdin;\n").dropFirst()
            #expect(!statements.isEmpty, "lane \(lane) got rows of the big table")
            var previous = -1
            for statement in statements {
                let body = try #require(statement.range(of: "\\.\n")).lowerBound
                for row in statement[..<body].split(separator: "\n") {
                    let id = try #require(Int(row.split(separator: "\t")[0]), "\(row)")
                    #expect(id > previous, "rows in order within lane \(lane)")
                    previous = id
                    rows.append(id)
                }
            }
        }
        #expect(rows.sorted() == Array(1...40), "every row once")
        #expect(lanes.barriers == 3, "before data, after data, before the serial post-data")
    }

    @Test("sequence values and large objects stay on lane 0, in order")
    func orderedData() throws {
        let lanes = try Self.split(SplitterSampleDump.text, lanes: 3)
        let data = lanes.part(0, after: 1)
        let setval = try #require(data.range(of: "SELECT pg_catalog.setval('public.big_id_seq', 40, true);"))
        let blob = try #require(data.range(of: "BEGIN;\n\nSELECT pg_catalog.lo_open('16400', 131072);"))
        #expect(setval.lowerBound < blob.lowerBound)
        #expect(data.contains("SELECT pg_catalog.lo_close(0);\n\nCOMMIT;"))
        for lane in 1..<3 { #expect(!lanes.texts[lane].contains("lo_open") && !lanes.texts[lane].contains("setval")) }
    }

    @Test("indexes and key constraints run in parallel, an index behind its table's constraint; the rest in order after a barrier")
    func postData() throws {
        let lanes = try Self.split(SplitterSampleDump.text, lanes: 3)
        let parallel = (0..<3).map { lanes.part($0, after: 2) }
        func lane(of statement: String) -> Int? { parallel.firstIndex { $0.contains(statement) } }
        let big = lane(of: "ADD CONSTRAINT big_pkey PRIMARY KEY (id);")
        #expect(big != nil)
        #expect(lane(of: "CREATE INDEX big_note ON public.big USING btree (note);") == big)
        #expect(lane(of: "CREATE INDEX \"Odd ON idx\" ON ONLY public.\"Mixed Case\" USING btree (\"Id\");")
                == lane(of: "ADD CONSTRAINT \"Mixed Case_pkey\" PRIMARY KEY (\"Id\");"))
        #expect(lane(of: "Mixed Case_pkey") != big, "another table, another lane")
        let serial = lanes.part(0, after: 3)
        for statement in ["ADD CONSTRAINT small_big_fk FOREIGN KEY", "CREATE TRIGGER t", "REFRESH MATERIALIZED VIEW"] {
            #expect(serial.contains(statement), "\(statement) after the last barrier, on lane 0")
        }
        #expect(serial.range(of: "FOREIGN KEY")!.lowerBound < serial.range(of: "REFRESH")!.lowerBound)
        #expect(!lanes.part(1, after: 3).contains("CREATE") && !lanes.part(2, after: 3).contains("CREATE"))
    }

    @Test("one lane gets the dump byte for byte, with the barriers between its sections")
    func oneLaneIsTheDump() throws {
        let lanes = try Self.split(SplitterSampleDump.text, lanes: 1, piece: 3)
        let text = lanes.texts[0].replacingOccurrences(of: #"<barrier \d>\n"#, with: "", options: .regularExpression)
        #expect(text == SplitterSampleDump.text)
    }

    @Test("an index whose table is not understood ends the parallel part")
    func unknownIndexTarget() throws {
        let dump = SplitterSampleDump.text.replacingOccurrences(of: "CREATE INDEX big_note ON public.big",
                                                        with: "CREATE INDEX big_note ON (public.big)")
        let lanes = try Self.split(dump, lanes: 2)
        #expect(lanes.barriers == 3)
        #expect(lanes.part(0, after: 3).hasPrefix("-- Name: big_note; Type: INDEX;"), "\(lanes.part(0, after: 3))")
    }

    @Test("the table an index or constraint statement works on", arguments: [
        ("CREATE INDEX i ON public.t USING btree (a);", "public.t"),
        ("CREATE UNIQUE INDEX \"x ON y\" ON ONLY \"S p\".\"T \"\"q\"\"\" USING btree (a);", "\"S p\".\"T \"\"q\"\"\""),
        ("ALTER TABLE ONLY public.measurements", "public.measurements"),
        ("ALTER TABLE public.t", "public.t"),
        ("CREATE INDEX i ON (x)", nil),
        ("ALTER INDEX public.i ATTACH PARTITION public.j;", nil),
    ] as [(String, String?)])
    func indexTarget(statement: String, table: String?) {
        #expect(IndexTarget.table(of: statement) == table)
    }
}
