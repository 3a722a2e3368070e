import Foundation

/// Observes a plain dump going by and counts the lock-table entries restoring it in ONE transaction takes: every
/// object it creates is locked until COMMIT, and the server's shared lock table holds only about
/// `max_locks_per_transaction × (max_connections + max_prepared_transactions)` of them. The bytes pass on unchanged.
///
/// It reads pg_dump's own `-- Name: …; Type: …;` comments (right after a `--` line, outside COPY data, so the same
/// text in a function body or a row is not counted) and weighs each entry by `DumpObjectWeights`; a table whose
/// columns are not all of fixed width also counts the TOAST table and index the server makes for it. Each
/// `SELECT pg_catalog.lo_create(…)` (a large object) counts one. Calibrated against `pg_locks` before COMMIT
/// (see README, "The lock wall"): an upper estimate, about the real number for tables, indexes and sequences.
final class LockableObjectCounter: ByteStage {
    private let next: ByteStage
    /// The estimate so far; complete once the whole dump passed.
    private(set) var count: Int64 = 0
    private var lines = DumpLines()
    private var previousWasDashes = false
    private var inCopy = false
    /// A TABLE entry was announced: its `CREATE … TABLE … (` line opens the column list read for TOAST.
    private var expectingTable = false
    /// pg_dump announced TABLE DATA: the next COPY opens rows (a COPY line in a function body does not).
    private var expectingData = false
    /// Within a FUNCTION or PROCEDURE entry, the dollar-quote tag of the body that is open (its text is not read).
    private var inRoutine = false
    private var openQuote: Substring?
    private var inColumns = false
    private var tableNeedsToast = false

    init(next: ByteStage) { self.next = next }

    func write(_ chunk: UnsafeRawBufferPointer) throws {
        lines.split(chunk) { line($0, length: $1) }
        try next.write(chunk)
    }

    func finish() throws { try next.finish() }

    /// One whole line: its first bytes (up to `DumpLines.headLimit`) and its full length, without the newline.
    private func line(_ text: UnsafeRawBufferPointer, length: Int) {
        defer { previousWasDashes = length == 2 && text.starts(with: Self.dashes) }
        if inCopy {
            if length == 2, text.starts(with: Self.endOfCopy) { inCopy = false }
            return
        }
        if inColumns {
            column(text)
            return
        }
        if inRoutine, Self.trackDollarQuotes(String(decoding: text, as: UTF8.self), open: &openQuote) { return }
        if text.starts(with: Self.namePrefix) || text.starts(with: Self.dataPrefix) {
            guard previousWasDashes, let type = Self.entryType(text) else { return }
            count += DumpObjectWeights.weight(of: type)
            expectingTable = type == "TABLE"
            expectingData = type == "TABLE DATA"
            inRoutine = type == "FUNCTION" || type == "PROCEDURE"
        } else if expectingData, text.starts(with: Self.copyPrefix) {
            expectingData = false
            inCopy = true
        } else if text.starts(with: Self.largeObjectPrefix) {
            count += 1
        } else if expectingTable, text.starts(with: Self.createPrefix) {
            expectingTable = false
            // A table made otherwise (`OF type`, a partition clause without columns) may still get TOAST.
            if text.count == length, text.last == UInt8(ascii: "(") {
                inColumns = true
                tableNeedsToast = false
            } else {
                count += DumpObjectWeights.toastObjects
            }
        }
    }

    /// A line of a CREATE TABLE's column list, until its closing `)`.
    private func column(_ text: UnsafeRawBufferPointer) {
        if text.first == UInt8(ascii: ")") {
            inColumns = false
            if tableNeedsToast { count += DumpObjectWeights.toastObjects }
            return
        }
        if !tableNeedsToast, !DumpObjectWeights.isFixedWidthColumn(String(decoding: text, as: UTF8.self)) {
            tableNeedsToast = true
        }
    }

    /// Follows the dollar quotes (`$$`, `$_$`, `$body$`) on one line of a routine; true when the line starts or
    /// ends inside one, so nothing on it is pg_dump's own.
    static func trackDollarQuotes(_ line: String, open: inout Substring?) -> Bool {
        var touched = open != nil
        var rest = Substring(line)
        while let start = rest.firstIndex(of: "$") {
            let after = rest.index(after: start)
            guard let end = rest[after...].firstIndex(where: { !($0.isLetter || $0.isNumber || $0 == "_") }),
                  rest[end] == "$"
            else {
                rest = rest[after...]
                continue
            }
            let tag = rest[start...end]
            if open == nil {
                open = tag
                touched = true
            } else if open == tag {
                open = nil
            }
            rest = rest[rest.index(after: end)...]
        }
        return touched
    }

    /// The `Type:` of a `-- Name: …; Type: TYPE; Schema: …` comment.
    static func entryType(_ text: UnsafeRawBufferPointer) -> String? {
        let line = String(decoding: text, as: UTF8.self)
        guard let start = line.range(of: "; Type: ") else { return nil }
        let rest = line[start.upperBound...]
        guard let end = rest.firstIndex(of: ";") else { return nil }
        return String(rest[..<end])
    }

    private static let dashes = Array("--".utf8)
    private static let endOfCopy = Array("\\.".utf8)
    private static let namePrefix = Array("-- Name: ".utf8)
    private static let dataPrefix = Array("-- Data for Name: ".utf8)
    private static let copyPrefix = Array("COPY ".utf8)
    private static let createPrefix = Array("CREATE ".utf8)
    private static let largeObjectPrefix = Array("SELECT pg_catalog.lo_create(".utf8)
}

/// Splits a byte stream into lines with `memchr`; only a line that straddles two chunks has its first bytes
/// copied. A line is handed on as its first `headLimit` bytes and its full length.
struct DumpLines {
    /// Enough of a line's start for pg_dump's comments, CREATE and COPY lines and a column definition.
    static let headLimit = 1024
    private var head: [UInt8] = []
    private var pendingLength = 0

    mutating func split(_ chunk: UnsafeRawBufferPointer, _ line: (UnsafeRawBufferPointer, Int) -> Void) {
        guard let base = chunk.baseAddress else { return }
        var offset = 0
        while offset < chunk.count {
            let start = base + offset
            guard let newline = memchr(start, 0x0A, chunk.count - offset) else {
                keep(start, chunk.count - offset)
                return
            }
            let length = UnsafeRawPointer(newline) - start
            if pendingLength == 0 {
                line(UnsafeRawBufferPointer(start: start, count: min(length, Self.headLimit)), length)
            } else {
                keep(start, length)
                head.withUnsafeBytes { line($0, pendingLength) }
                head.removeAll(keepingCapacity: true)
                pendingLength = 0
            }
            offset += length + 1
        }
    }

    private mutating func keep(_ start: UnsafeRawPointer, _ length: Int) {
        let room = max(0, Self.headLimit - head.count)
        if room > 0 { head.append(contentsOf: UnsafeRawBufferPointer(start: start, count: min(room, length))) }
        pendingLength += length
    }
}
