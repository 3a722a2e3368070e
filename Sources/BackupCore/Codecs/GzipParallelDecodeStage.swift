import Foundation

/// gzip decoding across all cores for the files pgbackup writes: `GzipEncodeStage` makes one member per 1 MiB
/// block, so the stream is cut into members where the next one starts, and worker threads decode whole members
/// with libdeflate (which checks each CRC-32 and length), written on to `next` in order. Anything else — the
/// old tool's single `gzip -6` member, pigz's output, damage — goes to zlib's streaming `GzipDecodeStage`.
///
/// A member's end is not written down anywhere, so the cut is a guess checked by decoding: a member starts with
/// `1f 8b 08 00 00000000` (no flags, no time: libdeflate's header), and ends with its length (ISIZE) just before
/// the next one. A cut is accepted only when libdeflate decodes exactly those bytes to exactly that length with
/// the right CRC. The first member libdeflate refuses, a start that is no such header, or a member too large
/// for the fast path (no next header within `maxMemberSize` and a bit) hands that member and everything after
/// it to zlib, for the rest of the file: zlib then decodes it (the guess was wrong) or rejects it with the
/// same `GzipError` as before, so every file that read before reads the same, and fails the same.
///
/// `write` and `finish` are called from one thread, which also runs `next`; members in flight are bounded
/// (count and decoded bytes), so memory stays flat whatever the file size.
final class GzipParallelDecodeStage: ByteStage {
    /// Decoded bytes a member may have for the fast path (4 × what `GzipEncodeStage` writes).
    static let maxMemberSize = 4 << 20
    /// Compressed bytes held while looking for the next member's start before zlib takes over.
    private static let maxPendingBytes = maxMemberSize + 64 * 1024
    /// Decoded bytes of the members in flight at most (one member may exceed it alone).
    private static let maxInFlightBytes = 8 << 20
    /// ID1 ID2, CM = deflate, FLG = 0, MTIME = 0: how every libdeflate (and `gzip -n` of stdin) member begins.
    private static let header: [UInt8] = [0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0]
    /// The smallest member: a 10-byte header, 2 bytes of deflate, CRC-32 and ISIZE.
    private static let minimumMember = 20

    private struct Member: Sendable {
        let bytes: [UInt8]
        let size: Int
    }

    private let next: ByteStage
    private let workers: Int
    private let maxInFlight: Int
    private var pool: OrderedWorkerPool<Member, [UInt8]?>?
    /// Compressed bytes not yet cut into a member; they begin where a member should. A slice, so cutting a member
    /// off the front moves nothing (appending copies only what is left when the storage is full).
    private var pending: ArraySlice<UInt8> = []
    private var searchFrom = 0
    private var inFlight: [(sequence: Int, member: Member)] = []
    private var inFlightBytes = 0
    private var submitted = 0
    private var fallback: GzipDecodeStage?
    private var decodedByLibdeflate: Int64 = 0
    private var finished = false

    /// Compressed bytes handed to `write` so far.
    private(set) var compressedBytes: Int64 = 0
    /// Decoded bytes written to `next` so far.
    var uncompressedBytes: Int64 { decodedByLibdeflate + (fallback?.uncompressedBytes ?? 0) }
    /// Whether zlib took over (for tests and the benchmark's curiosity).
    var usedZlib: Bool { fallback != nil }

    /// - Parameter workers: decoding threads (default: one per core), started with the first member.
    init(workers: Int = ProcessInfo.processInfo.activeProcessorCount, next: ByteStage) {
        self.next = next
        self.workers = min(max(workers, 1), 16)
        maxInFlight = self.workers * 2 + 1
    }

    deinit { pool?.shutdown() }

    func write(_ chunk: UnsafeRawBufferPointer) throws {
        precondition(!finished, "write after finish")
        compressedBytes += Int64(chunk.count)
        if let fallback { return try fallback.write(chunk) }
        pending.append(contentsOf: chunk)
        while fallback == nil {
            if pending.count >= Self.header.count, !pending.starts(with: Self.header) { return try fallBack() }
            guard let end = nextHeader() else {
                if pending.count > Self.maxPendingBytes { try fallBack() }
                return
            }
            try cut(length: end)
        }
    }

    /// Decodes the last member and writes every member still in flight; fails as zlib would (no member at all,
    /// a member cut short, bytes after the last one); then finishes `next`.
    func finish() throws {
        precondition(!finished, "finish called twice")
        finished = true
        if fallback == nil {
            if pending.count >= Self.minimumMember && pending.starts(with: Self.header) {
                try cut(length: pending.count)
            } else if !pending.isEmpty || submitted == 0 {
                try fallBack()
            }
        }
        while fallback == nil, !inFlight.isEmpty { try writeOldest() }
        pool?.shutdown()
        if let fallback { try fallback.finish() } else { try next.finish() }
    }

    /// Where the next member seems to start in `pending`, if it is there yet.
    private func nextHeader() -> Int? {
        let from = max(searchFrom, Self.minimumMember)
        searchFrom = max(from, pending.count - Self.header.count + 1)
        guard pending.count - from >= Self.header.count else { return nil }
        return pending.withUnsafeBytes { haystack -> Int? in
            guard let base = haystack.baseAddress else { return nil }
            // memchr for ID1, then the rest compared (glibc's memmem is not imported without _GNU_SOURCE).
            var position = from
            let last = haystack.count - Self.header.count
            while position <= last, let hit = memchr(base + position, 0x1f, last + 1 - position) {
                position = base.distance(to: UnsafeRawPointer(hit))
                if memcmp(hit, Self.header, Self.header.count) == 0 { return position }
                position += 1
            }
            return nil
        }
    }

    /// Hands the first `length` pending bytes, one member by the guess, to a worker.
    private func cut(length: Int) throws {
        let size = (0..<4).reduce(0) { $0 | Int(pending[pending.startIndex + length - 4 + $1]) << (8 * $1) }
        guard size <= Self.maxMemberSize else { return try fallBack() }
        while !inFlight.isEmpty, inFlight.count >= maxInFlight || inFlightBytes + size > Self.maxInFlightBytes {
            try writeOldest()
            if fallback != nil { return }
        }
        let member = Member(bytes: Array(pending.prefix(length)), size: size)
        pending.removeFirst(length)
        searchFrom = 0
        try startedPool().submit(sequence: submitted, job: member)
        inFlight.append((submitted, member))
        inFlightBytes += size
        submitted += 1
    }

    private func writeOldest() throws {
        let oldest = inFlight.removeFirst()
        inFlightBytes -= oldest.member.size
        guard let plain = decoded(oldest.sequence) else { return try fallBack(from: oldest.member) }
        try plain.withUnsafeBytes { try next.write($0) }
        decodedByLibdeflate += Int64(plain.count)
    }

    /// zlib decodes from here on: `refused` (the member libdeflate would not decode) if any, the members after
    /// it, what is pending and every later write. Members in flight before the refusal are written first.
    private func fallBack(from refused: Member? = nil) throws {
        var unwritten = refused.map { [$0] } ?? []
        for (sequence, member) in inFlight {
            if unwritten.isEmpty, let plain = decoded(sequence) {
                try plain.withUnsafeBytes { try next.write($0) }
                decodedByLibdeflate += Int64(plain.count)
            } else {
                unwritten.append(member)
            }
        }
        inFlight = []
        inFlightBytes = 0
        pool?.shutdown()
        let zlib = try GzipDecodeStage(next: next)
        fallback = zlib
        for member in unwritten { try member.bytes.withUnsafeBytes { try zlib.write($0) } }
        let rest = pending
        pending = []
        try rest.withUnsafeBytes { try zlib.write($0) }
    }

    /// The plain bytes of member `sequence`, once a worker has it; nil if libdeflate refused it.
    private func decoded(_ sequence: Int) -> [UInt8]? { pool?.result(for: sequence) ?? nil }

    private func startedPool() throws -> OrderedWorkerPool<Member, [UInt8]?> {
        if let pool { return pool }
        let decompressors = try (0..<workers).map { _ in try GzipMemberDecompressor() }
        let started = OrderedWorkerPool<Member, [UInt8]?>(
            workers: decompressors.map { decompressor in { decompressor.decode($0.bytes, size: $0.size) } },
            name: "pgbackup-inflate", niceIncrement: 0)
        pool = started
        return started
    }
}
