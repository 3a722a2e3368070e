import Foundation

/// Observes a plain dump going by and counts the data rows of every table (`COPY <name> (…) FROM stdin;`, then one
/// line per row until `\.`: in COPY's text format a newline inside a value is written `\n`, so a row is one line)
/// and the large objects (one `SELECT pg_catalog.lo_create('OID');` each), with no query and no second pass. The
/// bytes pass on unchanged.
///
/// Names are kept as pg_dump quotes them (`public."Mixed Case"`); large objects are counted under
/// `largeObjectsKey`, which no table can be called (pg_dump always qualifies a table with its schema). A COPY or
/// lo_create line counts only right after pg_dump's own `-- … Type: TABLE DATA;` or `-- … Type: BLOB;` comment,
/// so the same text in a function's body is not taken for data.
///
/// Lines are found with `memchr`; only a line that straddles two chunks has its first bytes copied.
final class TableRowCounter: ByteStage {
    /// The key of the large-object count in `counts` (and in the sidecar's `tables`).
    static let largeObjectsKey = "pg_largeobject"
    /// Enough of a line's start for pg_dump's comments and COPY lines (a qualified name is at most ~260 bytes).
    private static let headLimit = 1024

    private enum Expected { case tableData, largeObject }

    private let next: ByteStage
    /// Rows per table, and large objects; complete once the whole dump passed.
    private(set) var counts: [String: Int64] = [:]
    /// The table whose COPY block is open, and its rows so far.
    private var copying: String?
    private var rows: Int64 = 0
    private var expected: Expected?
    /// The start of the current line and its length so far, while it is split across chunks.
    private var head: [UInt8] = []
    private var pendingLength = 0

    init(next: ByteStage) { self.next = next }

    func write(_ chunk: UnsafeRawBufferPointer) throws {
        if let base = chunk.baseAddress { scan(base, count: chunk.count) }
        try next.write(chunk)
    }

    func finish() throws { try next.finish() }

    private func scan(_ base: UnsafeRawPointer, count: Int) {
        var offset = 0
        while offset < count {
            let start = base + offset
            guard let newline = memchr(start, 0x0A, count - offset) else {
                keep(start, count - offset)
                return
            }
            let length = UnsafeRawPointer(newline) - start
            if pendingLength == 0 {
                line(UnsafeRawBufferPointer(start: start, count: min(length, Self.headLimit)), length: length)
            } else {
                keep(start, length)
                head.withUnsafeBytes { line($0, length: pendingLength) }
                head.removeAll(keepingCapacity: true)
                pendingLength = 0
            }
            offset += length + 1
        }
    }

    /// Keeps the first bytes of a line that goes on in the next chunk.
    private func keep(_ start: UnsafeRawPointer, _ length: Int) {
        let room = max(0, Self.headLimit - head.count)
        if room > 0 { head.append(contentsOf: UnsafeRawBufferPointer(start: start, count: min(room, length))) }
        pendingLength += length
    }

    /// One whole line: its first bytes (up to `headLimit`) and its full length, without the newline.
    private func line(_ start: UnsafeRawBufferPointer, length: Int) {
        if let table = copying {
            if length == 2, start[0] == UInt8(ascii: "\\"), start[1] == UInt8(ascii: ".") {
                counts[table, default: 0] += rows
                copying = nil
            } else {
                rows += 1
            }
            return
        }
        if length == 0 { return }
        if start.starts(with: Self.commentPrefix) {
            if start.starts(with: Self.dashDash + [UInt8(ascii: " ")]) { expected = Self.announcement(start) ?? expected }
            return
        }
        defer { expected = nil }
        switch expected {
        case .tableData?:
            if start.starts(with: Self.copyPrefix), let name = Self.tableName(start) {
                copying = name
                rows = 0
            }
        case .largeObject?:
            if start.starts(with: Self.largeObjectPrefix) { counts[Self.largeObjectsKey, default: 0] += 1 }
        case nil:
            break
        }
    }

    private static let dashDash = Array("--".utf8)
    private static let commentPrefix = dashDash
    private static let copyPrefix = Array("COPY ".utf8)
    private static let largeObjectPrefix = Array("SELECT pg_catalog.lo_create(".utf8)
    private static let tableDataMark = Array("; Type: TABLE DATA;".utf8)
    private static let largeObjectMark = Array("; Type: BLOB;".utf8)

    /// What pg_dump's `-- Name: …; Type: …;` comment says comes next, if it is data this stage counts.
    private static func announcement(_ line: UnsafeRawBufferPointer) -> Expected? {
        if contains(line, tableDataMark) { return .tableData }
        if contains(line, largeObjectMark) { return .largeObject }
        return nil
    }

    private static func contains(_ line: UnsafeRawBufferPointer, _ mark: [UInt8]) -> Bool {
        // Only pg_dump's short comment lines get here: a plain search is enough.
        guard line.count >= mark.count else { return false }
        return (0...(line.count - mark.count)).contains { offset in
            line[offset] == mark[0] && zip(line[offset...], mark).allSatisfy { $0 == $1 }
        }
    }

    /// The name in `COPY <name> (…) FROM stdin;` as pg_dump wrote it: up to the first space outside double quotes.
    static func tableName(_ line: UnsafeRawBufferPointer) -> String? {
        var quoted = false
        var end = copyPrefix.count
        while end < line.count {
            let byte = line[end]
            if byte == UInt8(ascii: "\"") { quoted.toggle() }
            if byte == UInt8(ascii: " "), !quoted { break }
            end += 1
        }
        guard end > copyPrefix.count, end < line.count else { return nil }
        return String(decoding: UnsafeRawBufferPointer(rebasing: line[copyPrefix.count..<end]), as: UTF8.self)
    }
}
