import Testing

@testable import BackupCore

@Suite("PostDataScheduler")
struct PostDataSchedulerTests {
    @Test("a key constraint's indexes go behind it on its lane; another table's entry goes to a free lane")
    func lockRules() throws {
        let lanes = RecordingLanes(3)
        let schedule = PostDataScheduler(lanes: lanes)
        let constraint = try schedule.lane(table: "public.t", exclusive: true)
        #expect(try schedule.lane(table: "public.t", exclusive: false) == constraint, "CREATE INDEX waits for the constraint")
        #expect(try schedule.lane(table: "public.t", exclusive: false) == constraint)
        let other = try schedule.lane(table: "public.u", exclusive: false)
        #expect(other != constraint, "the least busy lane")
        #expect(try schedule.lane(table: "public.u", exclusive: true) == other, "a constraint goes behind its table's index")
        #expect(lanes.waits == 0, "nothing had to wait")
        #expect(lanes.marks.reduce(0, +) == 4, "every entry but the current one is marked")
    }

    @Test("a big table's indexes build side by side, and nothing queues behind an expensive entry")
    func expensiveEntries() throws {
        let lanes = RecordingLanes(2)
        let schedule = PostDataScheduler(lanes: lanes)
        schedule.loaded(PostDataScheduler.expensiveBytes, into: "public.big")
        schedule.loaded(100, into: "public.small")
        let gin = try schedule.lane(table: "public.big", exclusive: false)
        let small = try schedule.lane(table: "public.small", exclusive: false)
        #expect(small != gin, "not behind the big table's index")
        #expect(try schedule.lane(table: "public.big", exclusive: false) == small, "the second index beside the first")
        #expect(lanes.waits == 0)
        // Both lanes now build an index of the big table: the next entry waits until a lane is free.
        let constraint = try schedule.lane(table: "public.other", exclusive: true)
        #expect(lanes.waits == 1)
        // An index of that table goes behind its constraint, on its lane.
        #expect(try schedule.lane(table: "public.other", exclusive: false) == constraint)
        #expect(lanes.waits == 1)
    }

    @Test("a constraint whose table has indexes building on two lanes waits until at most one is left")
    func exclusiveWaits() throws {
        let lanes = RecordingLanes(2)
        let schedule = PostDataScheduler(lanes: lanes)
        schedule.loaded(PostDataScheduler.expensiveBytes * 2, into: "public.big")
        let first = try schedule.lane(table: "public.big", exclusive: false)
        let second = try schedule.lane(table: "public.big", exclusive: false)
        #expect(first != second)
        _ = try schedule.lane(table: "public.big", exclusive: true)
        #expect(lanes.waits == 1)
    }

    @Test("the COPY statement's table, as written", arguments: [
        ("COPY public.big (id, note) FROM stdin;", "public.big"),
        ("COPY \"S p\".\"T \"\"q\"\"\" (a) FROM stdin;", "\"S p\".\"T \"\"q\"\"\""),
        ("COPY public.t FROM stdin;", "public.t"),
        ("CREATE TABLE public.t (a int);", nil),
    ] as [(String, String?)])
    func copyTable(statement: String, table: String?) {
        #expect(IndexTarget.table(ofCopy: statement) == table)
    }
}
