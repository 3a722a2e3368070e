import Foundation

/// The end of a parallel load's pipeline: cuts pg_dump's plain SQL, as it streams by, into what each lane
/// (`LoadLanes`) runs. Whole TOC entries go to one lane (placed by `DumpPhases`); a table's COPY rows are cut
/// into chunks of at most `chunkLimit` bytes (fewer once their lane is busy, but at least `minimumChunk`), each
/// sent as a COPY statement of its own (the same `COPY … FROM stdin;` line, the rows, `\.`) to the least busy
/// lane, so one big table also loads on several connections.
/// Nothing is held but the line being read (outside COPY data, up to `holdLimit`; a longer line streams on to the
/// lane of its entry): rows pass straight through, and the lanes' own limits give backpressure.
///
/// The dump's session settings (its `SET …` and `set_config` lines before the first entry, `\restrict` and
/// `\unrestrict`, and the `SET default_tablespace`/`default_table_access_method` lines pg_dump writes between
/// entries) go to every lane, so each runs with the settings it would have had alone.
final class DumpSplitter: ByteStage {
    static let defaultChunkLimit = 8 << 20
    static let holdLimit = 64 << 10
    /// Rows move on to another lane early when theirs is busy, but not in chunks smaller than this.
    static let minimumChunk = 1 << 20
    private let lanes: LoadLanes
    private let chunkLimit: Int
    private var phases = DumpPhases()
    private let postData: PostDataScheduler
    private var lane = 0
    // Outside COPY data: the line being assembled across input chunks, or streaming on (`overlong`).
    private var held: [UInt8] = []
    private var overlong = false
    private var previousWasDashes = false
    private var previousWasBlank = false
    /// A post-data entry's comment lines, held until its statement says which table (and so which lane).
    private var waitingEntry: [UInt8]?
    private var waitingType = ""
    private var expectingCopy = false
    private var inRoutine = false
    private var openQuote: Substring?
    // In COPY data: the statement line (for the next chunk), the rows' bytes in this chunk, the row that
    // straddles input chunks (its length and first two bytes, enough to know `\.`).
    private var copyLine: [UInt8]?
    private var copyTable: String?
    private var chunkBytes = 0
    private var tableBytes = 0
    private var rowLength = 0
    private var rowHead: [UInt8] = []

    init(lanes: LoadLanes, chunkLimit: Int = DumpSplitter.defaultChunkLimit) {
        self.lanes = lanes
        self.chunkLimit = chunkLimit
        postData = PostDataScheduler(lanes: lanes)
    }

    func write(_ chunk: UnsafeRawBufferPointer) throws {
        guard let base = chunk.baseAddress else { return }
        var offset = 0
        while offset < chunk.count {
            if copyLine != nil {
                offset = try rows(chunk, from: offset)
                continue
            }
            let start = base + offset
            guard let newline = memchr(start, 0x0A, chunk.count - offset) else {
                try hold(UnsafeRawBufferPointer(start: start, count: chunk.count - offset))
                break
            }
            let length = UnsafeRawPointer(newline) - start
            let part = UnsafeRawBufferPointer(start: start, count: length)
            if overlong {
                try send(part, newline: true)
                overlong = false
                previousWasDashes = false
                previousWasBlank = false
            } else if held.isEmpty {
                try line(part)
            } else {
                held.append(contentsOf: part)
                let whole = held
                held.removeAll(keepingCapacity: true)
                try whole.withUnsafeBytes { try line($0) }
            }
            offset += length + 1
        }
        try lanes.kick()
    }

    /// A last line without a newline is read as a line (pg_dump ends with one; psql reads it the same).
    func finish() throws {
        if let waitingEntry { try lanes.send(waitingEntry, to: lane) }
        waitingEntry = nil
        guard !held.isEmpty else { return }
        let last = held
        held.removeAll()
        if overlong { return try last.withUnsafeBytes { try send($0, newline: false) } }
        try last.withUnsafeBytes { try line($0) }
    }

    /// The start of a line that goes on in the next input chunk: kept, or streamed once it passes `holdLimit`.
    private func hold(_ part: UnsafeRawBufferPointer) throws {
        if overlong {
            try send(part, newline: false)
        } else if held.count + part.count <= Self.holdLimit {
            held.append(contentsOf: part)
        } else {
            try held.withUnsafeBytes { try send($0, newline: false) }
            try send(part, newline: false)
            held.removeAll(keepingCapacity: true)
            overlong = true
        }
    }

    /// Sends to the current entry's lane, or adds to the entry held back.
    private func send(_ bytes: UnsafeRawBufferPointer, newline: Bool) throws {
        if waitingEntry != nil {
            waitingEntry?.append(contentsOf: bytes)
            if newline { waitingEntry?.append(0x0A) }
            return
        }
        try lanes.send(bytes, to: lane)
        if newline { try lanes.send(Self.newline, to: lane) }
    }

    /// One whole line outside COPY data (without its newline).
    private func line(_ text: UnsafeRawBufferPointer) throws {
        let dashes = text.count == 2 && text.starts(with: Self.dashes)
        defer {
            previousWasDashes = dashes
            previousWasBlank = text.isEmpty
        }
        if previousWasDashes, text.starts(with: Self.namePrefix) || text.starts(with: Self.dataPrefix),
           let type = LockableObjectCounter.entryType(text) {
            try startEntry(type)
        } else if waitingEntry != nil, !text.isEmpty, !text.starts(with: Self.dashes) {
            try placeWaitingEntry(statement: String(decoding: text, as: UTF8.self))
        }
        if inRoutine, LockableObjectCounter.trackDollarQuotes(String(decoding: text, as: UTF8.self), open: &openQuote) {
            return try send(text, newline: true)
        }
        if isSessionSetting(text) {
            return try lanes.sendToAll(Array(text) + Self.newline)
        }
        try send(text, newline: true)
        if expectingCopy, text.starts(with: Self.copyPrefix), text.count < Self.holdLimit,
           text.suffix(Self.copySuffix.count).elementsEqual(Self.copySuffix) {
            expectingCopy = false
            copyLine = Array(text) + Self.newline
            copyTable = IndexTarget.table(ofCopy: String(decoding: text, as: UTF8.self))
            chunkBytes = 0
            tableBytes = 0
        }
    }

    /// COPY data from `offset`: rows pass on to the chunk's lane in spans; after `chunkLimit` bytes the chunk
    /// ends (`\.`) and the next one starts (its COPY line again) on the least busy lane. Returns where it stopped:
    /// after the `\.` line, or the chunk's end.
    private func rows(_ chunk: UnsafeRawBufferPointer, from offset: Int) throws -> Int {
        guard let base = chunk.baseAddress, let copyLine else { return chunk.count }
        var spanStart = offset
        var position = offset
        while position < chunk.count {
            guard let newline = memchr(base + position, 0x0A, chunk.count - position) else {
                let part = UnsafeRawBufferPointer(start: base + position, count: chunk.count - position)
                if rowHead.count < 2 { rowHead.append(contentsOf: part.prefix(2 - rowHead.count)) }
                rowLength += part.count
                break
            }
            let end = UnsafeRawPointer(newline) - base
            let part = UnsafeRawBufferPointer(start: base + position, count: end - position)
            let length = rowLength + part.count
            let isEnd: Bool
            if rowLength == 0 {
                isEnd = part.count == 2 && part[0] == Self.endOfCopy[0] && part[1] == Self.endOfCopy[1]
            } else {
                isEnd = length == 2 && (rowHead + part.prefix(2)).starts(with: Self.endOfCopy.prefix(2))
            }
            rowLength = 0
            rowHead.removeAll(keepingCapacity: true)
            position = end + 1
            if isEnd {
                try lanes.send(UnsafeRawBufferPointer(start: base + spanStart, count: position - spanStart), to: lane)
                self.copyLine = nil
                if let copyTable { postData.loaded(tableBytes, into: copyTable) }
                previousWasBlank = false
                previousWasDashes = false
                return position
            }
            chunkBytes += length + 1
            tableBytes += length + 1
            if chunkBytes >= chunkLimit
                || (chunkBytes >= Self.minimumChunk && lanes.isBusy(lane, adding: position - spanStart)) {
                try lanes.send(UnsafeRawBufferPointer(start: base + spanStart, count: position - spanStart), to: lane)
                try lanes.send(Self.endOfCopy, to: lane)
                lane = lanes.pickLane()
                try lanes.send(copyLine, to: lane)
                chunkBytes = 0
                spanStart = position
            }
        }
        if spanStart < chunk.count {
            try lanes.send(UnsafeRawBufferPointer(start: base + spanStart, count: chunk.count - spanStart), to: lane)
        }
        return chunk.count
    }

    private func startEntry(_ type: String) throws {
        try postData.entryEnded()
        if let waitingEntry {
            // An entry without a statement (nothing to run): it goes where the next one goes.
            self.waitingEntry = nil
            try lanes.send(waitingEntry, to: lane)
        }
        let (barrier, placement) = phases.entry(type)
        if barrier { try lanes.barrier() }
        expectingCopy = type == "TABLE DATA"
        inRoutine = type == "FUNCTION" || type == "PROCEDURE"
        openQuote = nil
        switch placement {
        case .ordered: lane = 0
        case .rows: lane = lanes.pickLane()
        case .byTable:
            waitingEntry = []
            waitingType = type
        }
    }

    private func placeWaitingEntry(statement: String) throws {
        guard let entry = waitingEntry else { return }
        waitingEntry = nil
        if let table = IndexTarget.table(of: statement) {
            lane = try postData.lane(table: table, exclusive: waitingType == "CONSTRAINT")
        } else {
            phases.serialFromHere()
            try lanes.barrier()
            lane = 0
        }
        try lanes.send(entry, to: lane)
    }

    /// A line every lane must run: the dump's settings before its first entry, `\restrict`/`\unrestrict`, and the
    /// tablespace and access-method settings pg_dump writes between entries (after a blank line).
    private func isSessionSetting(_ text: UnsafeRawBufferPointer) -> Bool {
        if text.starts(with: Self.restrictPrefix) || text.starts(with: Self.unrestrictPrefix) { return true }
        if phases.phase == .preamble {
            return text.starts(with: Self.setPrefix) || text.starts(with: Self.setConfigPrefix)
        }
        guard previousWasBlank, waitingEntry == nil, text.last == UInt8(ascii: ";") else { return false }
        return text.starts(with: Self.tablespacePrefix) || text.starts(with: Self.accessMethodPrefix)
    }
}
