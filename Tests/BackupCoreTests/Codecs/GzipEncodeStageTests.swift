import Foundation
import Testing

@testable import BackupCore
import TestSupport

@Suite("GzipEncodeStage")
struct GzipEncodeStageTests {
    static let block = 64 * 1024
    /// About 24 MB of dump-like text, made once.
    static let largeText = DumpText.make(bytes: 24 * 1024 * 1024 + 12_345)

    /// Compresses with a GzipEncodeStage of its own, so block size and workers can be chosen.
    static func compress(_ plain: [UInt8], level: Int = 6, workers: Int = 2, blockSize: Int = GzipEncodeStage.defaultBlockSize,
                         pieces: [Int] = [Int.max]) throws -> [UInt8] {
        let sink = CollectingStage()
        let stage = try GzipEncodeStage(level: level, workers: workers, blockSize: blockSize, next: sink)
        try StageRun.feed(plain, to: stage, pieces: pieces)
        #expect(sink.finishCount == 1)
        #expect(stage.uncompressedBytes == Int64(plain.count))
        #expect(stage.compressedBytes == Int64(sink.bytes.count))
        return sink.bytes
    }

    /// Checks `compressed` passes `gzip -t` and decodes to `plain` with our decoder, `gzip -dc` and Python's gzip.
    static func expectDecodesEverywhere(_ compressed: [UInt8], to plain: [UInt8],
                                        sourceLocation: SourceLocation = #_sourceLocation) throws {
        let dir = try TemporaryDirectory()
        #expect(byteDifference(try StageRun.decode(compressed, .gzip), plain) == nil, "GzipDecodeStage", sourceLocation: sourceLocation)
        #expect(try ExternalTool.integrityTest(compressed, .gzip, in: dir) == 0, "gzip -t", sourceLocation: sourceLocation)
        let system = try ExternalTool.gunzip(compressed, in: dir)
        #expect(system.status == 0, "gzip -dc exit status", sourceLocation: sourceLocation)
        #expect(byteDifference(system.stdout, plain) == nil, "gzip -dc output", sourceLocation: sourceLocation)
        let python = try ExternalTool.pythonGunzip(compressed, in: dir)
        #expect(python.status == 0, "python gzip exit status", sourceLocation: sourceLocation)
        #expect(byteDifference(python.stdout, plain) == nil, "python gzip output", sourceLocation: sourceLocation)
    }

    @Test("empty input is one valid, empty gzip member")
    func emptyInput() throws {
        let compressed = try Self.compress([])
        #expect(Array(compressed.prefix(3)) == [0x1f, 0x8b, 0x08])
        #expect(Array(compressed.suffix(8)) == [0, 0, 0, 0, 0, 0, 0, 0])
        try Self.expectDecodesEverywhere(compressed, to: [])
    }

    @Test("one byte")
    func oneByte() throws {
        let compressed = try Self.compress([0x41])
        // CRC-32 of "A" is 0xD3D99E8B, ISIZE 1, both little-endian.
        #expect(Array(compressed.suffix(8)) == [0x8b, 0x9e, 0xd9, 0xd3, 1, 0, 0, 0])
        try Self.expectDecodesEverywhere(compressed, to: [0x41])
    }

    @Test("exactly one block is one member, with no empty member after it")
    func exactlyOneBlock() throws {
        let plain = DumpText.make(bytes: Self.block, seed: 5)
        let oneBlock = try Self.compress(plain, blockSize: Self.block)
        #expect(byteDifference(oneBlock, try Self.compress(plain, blockSize: 4 * Self.block)) == nil)
        try Self.expectDecodesEverywhere(oneBlock, to: plain)
    }

    @Test("sizes around block boundaries", arguments: [block - 1, block + 1, 2 * block - 1, 2 * block, 2 * block + 1, 7 * block + 77])
    func aroundBlockBoundaries(size: Int) throws {
        let plain = DumpText.make(bytes: size, seed: UInt64(size))
        let compressed = try Self.compress(plain, blockSize: Self.block)
        try Self.expectDecodesEverywhere(compressed, to: plain)
        // Cutting the same input into other write sizes changes nothing.
        #expect(byteDifference(try Self.compress(plain, blockSize: Self.block, pieces: [1000]), compressed) == nil)
    }

    @Test("24 MB in odd write sizes gives the same, correct file as one write")
    func largeInputInOddPieces() throws {
        let plain = Self.largeText
        let whole = try Self.compress(plain)
        #expect(whole.count < plain.count / 2)
        #expect(byteDifference(try Self.compress(plain, pieces: StageRun.oddPieces), whole) == nil)
        try Self.expectDecodesEverywhere(whole, to: plain)
        #expect(byteDifference(try StageRun.decode(whole, .gzip, pieces: StageRun.oddPieces), plain) == nil)
    }

    @Test("incompressible input stays about the same size and decodes")
    func incompressible() throws {
        let plain = SampleData.random(bytes: 3 * 1024 * 1024 + 5)
        let compressed = try Self.compress(plain, blockSize: 256 * 1024)
        #expect(compressed.count <= plain.count + plain.count / 1000 + 64)
        try Self.expectDecodesEverywhere(compressed, to: plain)
    }

    @Test("levels 1 and 9 decode; 9 is no larger than 1", arguments: [1, 9])
    func levels(level: Int) throws {
        let plain = Array(Self.largeText.prefix(3 * 1024 * 1024))
        let compressed = try Self.compress(plain, level: level)
        try Self.expectDecodesEverywhere(compressed, to: plain)
        if level == 9 { #expect(compressed.count <= (try Self.compress(plain, level: 1)).count) }
    }

    @Test("a level outside 1–9 is refused", arguments: [0, 10])
    func levelOutOfRange(level: Int) throws {
        #expect(throws: CodecError.levelOutOfRange(.gzip, level)) {
            _ = try GzipEncodeStage(level: level, next: CollectingStage())
        }
    }

    @Test("level 6 output is no more than 1 % larger than gzip -6's on dump text")
    func sizeAgainstGzip() throws {
        let dir = try TemporaryDirectory()
        let plain = Array(Self.largeText.prefix(16 * 1024 * 1024))
        let ours = try Self.compress(plain, level: 6)
        let theirs = try ExternalTool.gzip(plain, level: 6, in: dir)
        #expect(Double(ours.count) <= Double(theirs.count) * 1.01, "ours \(ours.count) bytes, gzip -6 \(theirs.count) bytes")
    }

    @Test("one worker and two workers give the same bytes")
    func workerCountDoesNotChangeOutput() throws {
        let plain = Array(Self.largeText.prefix(3 * 1024 * 1024 + 999))
        let one = try Self.compress(plain, workers: 1, blockSize: 128 * 1024)
        #expect(byteDifference(one, try Self.compress(plain, workers: 2, blockSize: 128 * 1024)) == nil)
    }

    @Test("a block size below 64 KiB is raised to 64 KiB")
    func minimumBlockSize() throws {
        let plain = DumpText.make(bytes: 200_000, seed: 3)
        #expect(byteDifference(try Self.compress(plain, blockSize: 1), try Self.compress(plain, blockSize: Self.block)) == nil)
    }

    @Test("a failing next stage stops the encoder with its error, without hanging")
    func nextErrorPropagates() throws {
        let stage = try GzipEncodeStage(level: 6, workers: 2, blockSize: Self.block, next: FailingStage(writesBeforeFailing: 1))
        #expect(throws: FailingStage.Failed.self) {
            try StageRun.feed(DumpText.make(bytes: 2 * 1024 * 1024, seed: 9), to: stage)
        }
    }

    @Test("the compression threads run at the raised nice value")
    func workersAreNiced() throws {
        let base = CompressionThreads.niceOfCallingThread()
        let stage = try GzipEncodeStage(level: 6, workers: 2, niceIncrement: 3, next: CollectingStage())
        #expect(try CompressionThreads.waitForThreads(atNice: base + 3, count: 2))
        try stage.finish()
    }
}
