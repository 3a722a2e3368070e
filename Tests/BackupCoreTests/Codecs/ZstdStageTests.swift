import Foundation
import Testing

@testable import BackupCore
import TestSupport

@Suite("ZstdEncodeStage and ZstdDecodeStage")
struct ZstdStageTests {
    /// libzstd's block: the most input one compressed block holds.
    static let block = 128 * 1024
    /// About 24 MB of dump-like text, made once.
    static let largeText = DumpText.make(bytes: 24 * 1024 * 1024 + 12_345, seed: 12)

    static func compress(_ plain: [UInt8], level: Int = 3, workers: Int = 2, pieces: [Int] = [Int.max]) throws -> [UInt8] {
        let sink = CollectingStage()
        let stage = try ZstdEncodeStage(level: level, workers: workers, next: sink)
        try StageRun.feed(plain, to: stage, pieces: pieces)
        #expect(sink.finishCount == 1)
        #expect(stage.uncompressedBytes == Int64(plain.count))
        #expect(stage.compressedBytes == Int64(sink.bytes.count))
        return sink.bytes
    }

    /// Checks `compressed` passes `zstd -t` and decodes to `plain` with our decoder and `zstd -dc`.
    static func expectDecodesEverywhere(_ compressed: [UInt8], to plain: [UInt8],
                                        sourceLocation: SourceLocation = #_sourceLocation) throws {
        let dir = try TemporaryDirectory()
        #expect(byteDifference(try StageRun.decode(compressed, .zstd), plain) == nil, "ZstdDecodeStage", sourceLocation: sourceLocation)
        #expect(try ExternalTool.integrityTest(compressed, .zstd, in: dir) == 0, "zstd -t", sourceLocation: sourceLocation)
        let system = try ExternalTool.unzstd(compressed, in: dir)
        #expect(system.status == 0, "zstd -dc exit status", sourceLocation: sourceLocation)
        #expect(byteDifference(system.stdout, plain) == nil, "zstd -dc output", sourceLocation: sourceLocation)
    }

    @Test("empty input is one valid, empty frame with a checksum")
    func emptyInput() throws {
        let compressed = try Self.compress([])
        #expect(Array(compressed.prefix(4)) == [0x28, 0xb5, 0x2f, 0xfd])
        try Self.expectDecodesEverywhere(compressed, to: [])
    }

    @Test("one byte")
    func oneByte() throws {
        try Self.expectDecodesEverywhere(try Self.compress([0x41]), to: [0x41])
    }

    @Test("the frame records a content checksum")
    func checksumFlagIsOn() throws {
        let compressed = try Self.compress(DumpText.make(bytes: 10_000))
        // Frame header descriptor, after the 4-byte magic: bit 2 is Content_Checksum_flag.
        #expect(compressed[4] & 0x04 != 0)
    }

    @Test("sizes around libzstd's block", arguments: [block - 1, block, block + 1, 2 * block - 1, 2 * block, 2 * block + 1])
    func aroundBlockBoundaries(size: Int) throws {
        let plain = DumpText.make(bytes: size, seed: UInt64(size))
        try Self.expectDecodesEverywhere(try Self.compress(plain, pieces: [1000]), to: plain)
    }

    @Test("24 MB in odd write sizes round-trips, decoded in odd sizes too")
    func largeInputInOddPieces() throws {
        let plain = Self.largeText
        let compressed = try Self.compress(plain, pieces: StageRun.oddPieces)
        #expect(compressed.count < plain.count / 3)
        try Self.expectDecodesEverywhere(compressed, to: plain)
        #expect(byteDifference(try StageRun.decode(compressed, .zstd, pieces: StageRun.oddPieces), plain) == nil)
    }

    @Test("single-threaded and multithreaded output both decode", arguments: [0, 1, 2])
    func workerCounts(workers: Int) throws {
        let plain = Array(Self.largeText.prefix(3 * 1024 * 1024 + 999))
        try Self.expectDecodesEverywhere(try Self.compress(plain, workers: workers), to: plain)
    }

    @Test("incompressible input stays about the same size and decodes")
    func incompressible() throws {
        let plain = SampleData.random(bytes: 3 * 1024 * 1024 + 5)
        let compressed = try Self.compress(plain)
        #expect(compressed.count <= plain.count + plain.count / 1000 + 64)
        try Self.expectDecodesEverywhere(compressed, to: plain)
    }

    @Test("levels 1 and 19 decode; 19 is no larger than 1", arguments: [1, 19])
    func levels(level: Int) throws {
        let plain = Array(Self.largeText.prefix(2 * 1024 * 1024))
        let compressed = try Self.compress(plain, level: level)
        try Self.expectDecodesEverywhere(compressed, to: plain)
        if level == 19 { #expect(compressed.count <= (try Self.compress(plain, level: 1)).count) }
    }

    @Test("levels 3 and 4 (matches of 6 bytes or more) decode everywhere, no larger than the zstd tool's", arguments: [3, 4])
    func dfastLevels(level: Int) throws {
        let plain = Array(Self.largeText.prefix(4 * 1024 * 1024))
        let compressed = try Self.compress(plain, level: level)
        try Self.expectDecodesEverywhere(compressed, to: plain)
        let tool = try ExternalTool.zstd(plain, level: level, in: try TemporaryDirectory())
        #expect(compressed.count <= tool.count, "\(compressed.count) bytes against zstd -\(level)'s \(tool.count)")
    }

    @Test("a level outside 1–19 is refused", arguments: [0, 20, 22])
    func levelOutOfRange(level: Int) throws {
        #expect(throws: CodecError.levelOutOfRange(.zstd, level)) {
            _ = try ZstdEncodeStage(level: level, next: CollectingStage())
        }
    }

    @Test("a stream cut short is truncated", arguments: [1, 3, 4, 5, 100, -1])
    func truncated(cut: Int) throws {
        let compressed = try Self.compress(Array(Self.largeText.prefix(1024 * 1024)))
        let kept = cut > 0 ? Array(compressed.prefix(cut)) : Array(compressed.dropLast(-cut))
        #expect(throws: CodecError.truncated(.zstd)) { try StageRun.decode(kept, .zstd) }
    }

    @Test("empty input is not a zstd file")
    func emptyIsTruncated() throws {
        #expect(throws: CodecError.truncated(.zstd)) { try StageRun.decode([], .zstd) }
    }

    @Test("a flipped byte is rejected")
    func flippedByte() throws {
        let compressed = try Self.compress(Array(Self.largeText.prefix(1024 * 1024)))
        #expect(throws: CodecError.self) { try StageRun.decode(StageRun.flipped(compressed), .zstd) }
    }

    @Test("a changed byte in the last block fails the frame checksum")
    func checksumMismatch() throws {
        // Stored (uncompressed) blocks make a change to the data reach the output unnoticed by anything else.
        var compressed = try Self.compress(SampleData.random(bytes: 10_000))
        compressed[compressed.count - 100] ^= 0x01
        #expect(throws: CodecError.checksumMismatch(.zstd)) { try StageRun.decode(compressed, .zstd) }
    }

    @Test("bytes after the last frame are rejected", arguments: [[UInt8](repeating: 0, count: 16), Array("trailing text".utf8)])
    func trailingGarbage(garbage: [UInt8]) throws {
        let compressed = try Self.compress(DumpText.make(bytes: 50_000))
        #expect(throws: CodecError.trailingGarbage(.zstd)) { try StageRun.decode(compressed + garbage, .zstd) }
    }

    @Test("two frames in a row decode as one stream, like zstd -d")
    func concatenatedFrames() throws {
        // The first frame ends exactly where the decoder's output buffer fills (2 × 128 KiB).
        let first = DumpText.make(bytes: 2 * Self.block, seed: 1)
        let second = DumpText.make(bytes: 200_000, seed: 2)
        let joined = try Self.compress(first) + (try Self.compress(second))
        #expect(byteDifference(try StageRun.decode(joined, .zstd, pieces: [777]), first + second) == nil)
    }

    @Test("a file made by the zstd tool decodes")
    func zstdToolOutput() throws {
        let dir = try TemporaryDirectory()
        let plain = Array(Self.largeText.prefix(5 * 1024 * 1024))
        #expect(byteDifference(try StageRun.decode(try ExternalTool.zstd(plain, level: 3, in: dir), .zstd), plain) == nil)
    }

    @Test("a failing next stage stops the encoder and the decoder with its error")
    func nextErrorPropagates() throws {
        let plain = DumpText.make(bytes: 4 * 1024 * 1024, seed: 9)
        let encoder = try ZstdEncodeStage(level: 3, workers: 2, next: FailingStage(writesBeforeFailing: 1))
        #expect(throws: FailingStage.Failed.self) { try StageRun.feed(plain, to: encoder) }
        let decoder = try ZstdDecodeStage(next: FailingStage(writesBeforeFailing: 1))
        #expect(throws: FailingStage.Failed.self) { try StageRun.feed(try Self.compress(plain), to: decoder) }
    }

    @Test("libzstd's worker threads run at the raised nice value")
    func workersAreNiced() throws {
        let base = CompressionThreads.niceOfCallingThread()
        let stage = try ZstdEncodeStage(level: 3, workers: 2, niceIncrement: 4, next: CollectingStage())
        #expect(try CompressionThreads.waitForThreads(atNice: base + 4, count: 2))
        try stage.finish()
    }
}
