/// Where a parallel load runs each index and key constraint of the post-data section (`DumpPhases.postParallel`).
/// Lanes are psql sessions, and what they were sent runs in order, so a cost the splitter cannot see (one GIN index
/// takes longer than every other index together) must not hold up the rest. So:
///
/// - each entry is marked on its lane once its statement is sent (`entryEnded`), and each lane reports when it ran
///   past a mark: an entry is outstanding until then;
/// - an entry of a big table (at least `expensiveBytes` of rows loaded) is expensive: a lane with an expensive entry
///   outstanding takes nothing more, so the next entries go to lanes that are free, waiting for one when none is;
/// - locks: a key constraint (ALTER TABLE … ADD CONSTRAINT takes ACCESS EXCLUSIVE) goes behind any outstanding
///   entry of its table, and an index (CREATE INDEX takes SHARE, which other index builds share) behind an
///   outstanding constraint of its table, on the same lane, so no session waits on another's lock (which
///   `lock_timeout` would end). An entry whose table has such entries on two lanes waits until one lane is left.
final class PostDataScheduler {
    static let expensiveBytes = 8 << 20
    /// Cheap entries queued on one lane at most (each is a round trip at most; this keeps psql fed).
    static let pipelineDepth = 32

    private struct Entry {
        let table: String
        let lane: Int
        var mark = 0
        let exclusive: Bool
        let expensive: Bool
    }

    private let lanes: LoadLanes
    private var tableBytes: [String: Int] = [:]
    /// The entry whose statement is being sent (marked when the next entry starts).
    private var current: Entry?
    private var outstanding: [Entry] = []
    private var nextLane = 0

    init(lanes: LoadLanes) { self.lanes = lanes }

    /// A table's COPY rows (or a chunk of them) were sent: `bytes` more of it.
    func loaded(_ bytes: Int, into table: String) { tableBytes[table, default: 0] += bytes }

    /// The lane for the next entry, on `table`; `exclusive` for a key constraint. May wait for a lane to free up.
    func lane(table: String, exclusive: Bool) throws -> Int {
        try entryEnded()
        let expensive = tableBytes[table, default: 0] >= Self.expensiveBytes
        while true {
            outstanding.removeAll { lanes.reached($0.lane, mark: $0.mark) }
            let conflicts = Set(outstanding.filter { $0.table == table && (exclusive || $0.exclusive) }.map(\.lane))
            if let lane = conflicts.count == 1 ? conflicts.first : conflicts.isEmpty ? freeLane() : nil {
                current = Entry(table: table, lane: lane, exclusive: exclusive, expensive: expensive)
                return lane
            }
            try lanes.waitForProgress()
        }
    }

    /// The current entry was sent whole: it is marked on its lane, and outstanding until the lane passes the mark.
    func entryEnded() throws {
        guard var entry = current else { return }
        current = nil
        entry.mark = try lanes.mark(entry.lane)
        outstanding.append(entry)
    }

    /// A lane with no expensive entry outstanding and room in its pipeline: the one with the fewest outstanding
    /// (ties in turn); nil when there is none.
    private func freeLane() -> Int? {
        var best: (lane: Int, load: Int)?
        for step in 0..<lanes.count {
            let lane = (nextLane + step) % lanes.count
            let mine = outstanding.filter { $0.lane == lane }
            guard !mine.contains(where: \.expensive), mine.count < Self.pipelineDepth else { continue }
            if best.map({ mine.count < $0.load }) ?? true { best = (lane, mine.count) }
        }
        if let best { nextLane = (best.lane + 1) % lanes.count }
        return best?.lane
    }
}
