import Foundation
import Testing

@testable import BackupCore
import TestSupport

@Suite("GzipParallelDecodeStage")
struct GzipParallelDecodeStageTests {
    static let block = GzipEncodeStage.defaultBlockSize
    static let text = DumpText.make(bytes: 5 * block + 333, seed: 31)

    static func random(_ count: Int, seed: UInt64 = 7) -> [UInt8] {
        var rng = SplitMix64(state: seed)
        return (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    }

    /// `compressed` through a GzipParallelDecodeStage: the plain bytes (or the error) and whether zlib took over.
    static func parallel(_ compressed: [UInt8], pieces: [Int] = [64 * 1024]) -> (Result<[UInt8], Error>, usedZlib: Bool) {
        let sink = CollectingStage()
        let stage = GzipParallelDecodeStage(next: sink)
        let result = Result { try StageRun.feed(compressed, to: stage, pieces: pieces) }.map { sink.bytes }
        if case .success = result { #expect(sink.finishCount == 1) }
        return (result, stage.usedZlib)
    }

    /// `compressed` through the zlib GzipDecodeStage, the decoder every rejection is compared with.
    static func zlib(_ compressed: [UInt8]) -> Result<[UInt8], Error> {
        let sink = CollectingStage()
        return Result { try StageRun.feed(compressed, to: try GzipDecodeStage(next: sink), pieces: [64 * 1024]) }
            .map { sink.bytes }
    }

    /// One libdeflate member per block, as GzipEncodeStage writes them, and where each member starts.
    static func members(_ blocks: [[UInt8]]) throws -> (bytes: [UInt8], starts: [Int]) {
        let compressor = try GzipMemberCompressor(level: 6)
        var bytes: [UInt8] = []
        var starts: [Int] = []
        for block in blocks {
            starts.append(bytes.count)
            bytes += try compressor.compress(block)
        }
        return (bytes, starts)
    }

    /// Checks both decoders fail on `compressed`, with the same error.
    static func expectSameRejection(_ compressed: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
        let (fast, _) = parallel(compressed)
        guard case let .failure(fastError) = fast, case let .failure(zlibError) = zlib(compressed) else {
            Issue.record("expected both decoders to reject the input", sourceLocation: sourceLocation)
            return
        }
        #expect(fastError as? GzipError != nil, "a GzipError: \(fastError)", sourceLocation: sourceLocation)
        #expect(fastError as? GzipError == zlibError as? GzipError, sourceLocation: sourceLocation)
    }

    @Test("our members round-trip through libdeflate alone, in any chunk sizes",
          arguments: [0, 1, block - 1, block, block + 1, 2 * block - 1, 2 * block, 2 * block + 1, 5 * block + 333])
    func roundTrip(size: Int) throws {
        let plain = Array(Self.text.prefix(size))
        let compressed = try StageRun.encode(plain, .gzip)
        for pieces in [[64 * 1024], StageRun.oddPieces, [Int.max]] {
            let (result, usedZlib) = Self.parallel(compressed, pieces: pieces)
            #expect(byteDifference(try result.get(), plain) == nil)
            #expect(!usedZlib)
        }
    }

    @Test("incompressible input and many megabytes round-trip without zlib")
    func largeAndIncompressible() throws {
        for plain in [Self.random(3 * Self.block + 5), DumpText.make(bytes: 40 * Self.block + 99, seed: 5)] {
            let (result, usedZlib) = Self.parallel(try StageRun.encode(plain, .gzip))
            #expect(byteDifference(try result.get(), plain) == nil)
            #expect(!usedZlib)
        }
    }

    @Test("an old single-member gzip -6 file decodes through zlib")
    func gzipToolFile() throws {
        let dir = try TemporaryDirectory()
        let compressed = try ExternalTool.gzip(Self.text, level: 6, in: dir)
        let (result, usedZlib) = Self.parallel(compressed)
        #expect(byteDifference(try result.get(), Self.text) == nil)
        #expect(usedZlib)
    }

    @Test("concatenated gzip and pigz files decode (cat a.gz b.gz)")
    func concatenatedToolFiles() throws {
        let dir = try TemporaryDirectory()
        let first = Array(Self.text.prefix(2 * Self.block + 7)), second = Array(Self.text.suffix(Self.block))
        let pigzPath = try dir.write("plain-pigz", second)
        let pigz = try ExternalTool.run("/usr/bin/pigz", ["-6", "-c", pigzPath])
        try #require(pigz.status == 0)
        let gzipNoName = try ExternalTool.run("/usr/bin/gzip", ["-n", "-6", "-c"], stdinFile: pigzPath)
        let inputs: [([UInt8], [UInt8])] = [
            (try ExternalTool.gzip(first, level: 6, in: dir) + pigz.stdout, first + second),
            (gzipNoName.stdout + gzipNoName.stdout, second + second),
            (try StageRun.encode(first, .gzip) + ExternalTool.gzip(second, level: 1, in: dir), first + second),
        ]
        for (compressed, plain) in inputs {
            #expect(byteDifference(try Self.parallel(compressed).0.get(), plain) == nil)
        }
    }

    @Test("members larger than the fast path's bound decode through zlib")
    func largeMembers() throws {
        let plain = DumpText.make(bytes: 11 * Self.block, seed: 3)
        let sink = CollectingStage()
        try StageRun.feed(plain, to: try GzipEncodeStage(level: 6, blockSize: 5 * Self.block, next: sink))
        let (result, usedZlib) = Self.parallel(sink.bytes)
        #expect(byteDifference(try result.get(), plain) == nil)
        #expect(usedZlib)
    }

    @Test("a member whose data looks like the start of another decodes through zlib")
    func falseMemberStart() throws {
        var block = Self.random(Self.block, seed: 9)
        block.replaceSubrange(1000..<1008, with: [0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0])
        let (compressed, _) = try Self.members([Array(Self.text.prefix(5000)), block, Array(Self.text.prefix(300))])
        let (result, usedZlib) = Self.parallel(compressed)
        #expect(byteDifference(try result.get(), Array(Self.text.prefix(5000)) + block + Array(Self.text.prefix(300))) == nil)
        #expect(usedZlib)
    }

    @Test("a cut stream is truncated, as with zlib")
    func cutStream() throws {
        let compressed = try StageRun.encode(Self.text, .gzip)
        for length in [0, 1, 10, compressed.count / 2, compressed.count - 8, compressed.count - 1] {
            let (result, _) = Self.parallel(Array(compressed.prefix(length)))
            #expect(throws: GzipError.truncated) { try result.get() }
        }
    }

    @Test("a flipped byte in a header, the data, a CRC or a length is rejected as zlib rejects it",
          arguments: [0, 1, 2])
    func flippedByte(member: Int) throws {
        let blocks = [Array(Self.text.prefix(Self.block)), Array(Self.text[Self.block..<(2 * Self.block)]), Array(Self.text.suffix(999))]
        let (compressed, starts) = try Self.members(blocks)
        let end = member + 1 < starts.count ? starts[member + 1] : compressed.count
        // ID1, the method, the deflate data, the CRC-32, ISIZE.
        for offset in [starts[member], starts[member] + 2, (starts[member] + end) / 2, end - 6, end - 2] {
            var damaged = compressed
            damaged[offset] ^= 0x01
            Self.expectSameRejection(damaged)
        }
        // FTEXT in the flags is a legal header that is not libdeflate's: zlib reads the rest.
        var textFlag = compressed
        textFlag[starts[member] + 3] ^= 0x01
        #expect(byteDifference(try Self.parallel(textFlag).0.get(), blocks.flatMap { $0 }) == nil)
    }

    @Test("bytes after the last member are rejected, as with zlib")
    func trailingGarbage() throws {
        let compressed = try StageRun.encode(Array(Self.text.prefix(3 * Self.block)), .gzip)
        let (result, _) = Self.parallel(compressed + Array("junk".utf8))
        #expect(throws: GzipError.trailingGarbage) { try result.get() }
        Self.expectSameRejection(compressed + [0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0xff, 1, 2, 3])
        Self.expectSameRejection(compressed + [0x1f])
    }

    @Test("the byte counts add up, and a failing next stage stops it cleanly")
    func countsAndFailures() throws {
        let compressed = try StageRun.encode(Self.text, .gzip)
        let sink = CollectingStage()
        let stage = GzipParallelDecodeStage(next: sink)
        try StageRun.feed(compressed, to: stage, pieces: [4096])
        #expect(stage.compressedBytes == Int64(compressed.count))
        #expect(stage.uncompressedBytes == Int64(Self.text.count))
        #expect(throws: FailingStage.Failed.self) {
            try StageRun.feed(compressed, to: GzipParallelDecodeStage(next: FailingStage(writesBeforeFailing: 2)))
        }
    }
}
