import Foundation

/// Rewrites a plain dump on its way to psql so the whole restore is one transaction: pg_dump wraps large-object
/// data in its own `BEGIN;` … `COMMIT;`, which would commit our outer transaction half-way. Those two lines are
/// commented out, but only inside the large-object section and never inside COPY data; everything else passes
/// through byte for byte. Long lines stream through without being held.
///
/// Sections are recognised only by pg_dump's own header (`--`, then `-- Name: …; Type: X; …` or
/// `-- Data for Name: …`), and COPY data only inside a `TABLE DATA` section, so look-alike lines inside a
/// function body change nothing.
struct RestoreFilter {
    private static let holdLimit = 4096
    private var line: [UInt8] = []
    private var overflowing = false
    private var overflowStartsWithCopy = false
    private var recentTail: [UInt8] = []
    private enum Section { case other, tableData, largeObjects }
    private var inCopy = false
    private var section = Section.other
    private var previousLineWasDashes = false
    /// Lines commented out so far.
    private(set) var neutralised = 0
    /// Replaces the dump's own `SET lock_timeout = 0;` (in its preamble, before the first object) so the restore
    /// keeps waiting at most BACKUP_LOCK_WAIT_TIMEOUT for each lock; nil leaves it alone.
    var lockTimeoutLine: [UInt8]?
    /// False for a load into a fresh database in ordinary transactions (`LoadOperation`): there is no outer
    /// transaction for pg_dump's large-object BEGIN/COMMIT to commit half-way, so they stay as they are.
    var neutralisesLargeObjectTransactions = true
    private var inPreamble = true

    mutating func process(_ input: UnsafeRawBufferPointer, emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        var start = 0
        while start < input.count {
            let rest = UnsafeRawBufferPointer(rebasing: input[start...])
            let newline = rest.firstIndex(of: 0x0a).map { start + $0 }
            let end = newline ?? input.count
            let segment = UnsafeRawBufferPointer(rebasing: input[start..<end])
            if overflowing {
                try emit(segment)
                remember(segment)
            } else if line.count + segment.count <= Self.holdLimit {
                line.append(contentsOf: segment)
            } else {
                overflowStartsWithCopy = (line + segment.prefix(Self.copyPrefix.count)).starts(with: Self.copyPrefix)
                try line.withUnsafeBytes { try emit($0) }
                try emit(segment)
                recentTail = Array(line.suffix(16))
                remember(segment)
                line.removeAll(keepingCapacity: true)
                overflowing = true
            }
            guard let newline else { break }
            try endLine(emit: emit)
            start = newline + 1
        }
    }

    /// Flushes a last line that had no newline.
    mutating func finish(emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        if !line.isEmpty {
            try line.withUnsafeBytes { try emit($0) }
            line.removeAll()
        }
    }

    private mutating func remember(_ segment: UnsafeRawBufferPointer) {
        recentTail.append(contentsOf: segment.suffix(16))
        if recentTail.count > 16 { recentTail.removeFirst(recentTail.count - 16) }
    }

    private static let copyPrefix = Array("COPY ".utf8)
    private static let copySuffix = Array("FROM stdin;".utf8)
    private static let endOfCopy = Array("\\.".utf8)
    private static let begin = Array("BEGIN;".utf8)
    private static let commit = Array("COMMIT;".utf8)
    private static let newline: [UInt8] = [0x0a]
    private static let dashes = Array("--".utf8)
    private static let noLockTimeout = Array("SET lock_timeout = 0;".utf8)

    private mutating func endLine(emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        defer {
            line.removeAll(keepingCapacity: true)
            overflowing = false
            recentTail.removeAll(keepingCapacity: true)
        }
        if overflowing {
            if !inCopy, section == .tableData, overflowStartsWithCopy,
               recentTail.suffix(Self.copySuffix.count).elementsEqual(Self.copySuffix) {
                inCopy = true
            }
            previousLineWasDashes = false
            try Self.newline.withUnsafeBytes { try emit($0) }
            return
        }
        var replacement: [UInt8]?
        let dashes = line == Self.dashes
        if inCopy {
            if line == Self.endOfCopy { inCopy = false }
        } else if section == .tableData, line.starts(with: Self.copyPrefix),
                  line.suffix(Self.copySuffix.count).elementsEqual(Self.copySuffix) {
            inCopy = true
        } else if previousLineWasDashes,
                  line.starts(with: Array("-- Name: ".utf8)) || line.starts(with: Array("-- Data for Name: ".utf8)) {
            let text = String(decoding: line, as: UTF8.self)
            inPreamble = false
            if text.contains("; Type: TABLE DATA;") {
                section = .tableData
            } else if text.contains("; Type: BLOBS;") || text.contains("; Type: BLOB;")
                || text.contains("; Type: LARGE OBJECTS;") || text.contains("; Type: BLOB DATA;") {
                section = .largeObjects
            } else {
                section = .other
            }
        } else if neutralisesLargeObjectTransactions, section == .largeObjects, line == Self.begin || line == Self.commit {
            replacement = Array("-- \(String(decoding: line, as: UTF8.self)) (pgbackup: one transaction for the whole restore)".utf8)
            neutralised += 1
        } else if inPreamble, let lockTimeoutLine, line == Self.noLockTimeout {
            replacement = lockTimeoutLine
        }
        previousLineWasDashes = dashes && !inCopy
        try (replacement ?? line).withUnsafeBytes { try emit($0) }
        try Self.newline.withUnsafeBytes { try emit($0) }
    }
}
