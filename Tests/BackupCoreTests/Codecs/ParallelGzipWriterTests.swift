import Foundation
import TestSupport
import Testing

@testable import BackupCore

@Suite("ParallelGzipWriter")
struct ParallelGzipWriterTests {
    static let block = 64 * 1024
    /// About 20 MB of COPY-like text, made once.
    static let largeText = SampleData.text(bytes: 20 * 1024 * 1024 + 12_345, seed: 2026)

    /// Checks `compressed` decodes to `plain` with our decoder, `gzip -dc` and Python's gzip module.
    static func expectDecodesEverywhere(_ compressed: [UInt8], to plain: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let dir = try TemporaryDirectory()
        #expect(byteDifference(try Gzip.decompress(compressed), plain) == nil, "GzipDecoder", sourceLocation: sourceLocation)
        let system = try ExternalTool.gunzip(compressed, in: dir)
        #expect(system.status == 0, "gzip -dc exit status", sourceLocation: sourceLocation)
        #expect(byteDifference(system.stdout, plain) == nil, "gzip -dc output", sourceLocation: sourceLocation)
        let python = try ExternalTool.pythonGunzip(compressed, in: dir)
        #expect(python.status == 0, "python gzip exit status", sourceLocation: sourceLocation)
        #expect(byteDifference(python.stdout, plain) == nil, "python gzip output", sourceLocation: sourceLocation)
    }

    @Test("empty input is a valid, empty gzip file")
    func emptyInput() throws {
        let compressed = try Gzip.compress([])
        #expect(Array(compressed.prefix(3)) == [0x1f, 0x8b, 0x08])
        #expect(Array(compressed.suffix(8)) == [0, 0, 0, 0, 0, 0, 0, 0])
        try Self.expectDecodesEverywhere(compressed, to: [])
    }

    @Test("one byte")
    func oneByte() throws {
        let compressed = try Gzip.compress([0x41])
        // CRC-32 of "A" is 0xD3D99E8B, ISIZE 1, both little-endian.
        #expect(Array(compressed.suffix(8)) == [0x8b, 0x9e, 0xd9, 0xd3, 1, 0, 0, 0])
        try Self.expectDecodesEverywhere(compressed, to: [0x41])
    }

    @Test(
        "sizes around the block size",
        arguments: [block - 1, block, block + 1, 2 * block - 1, 2 * block, 2 * block + 1, 5 * block + 77])
    func aroundBlockSize(size: Int) throws {
        let plain = SampleData.text(bytes: size, seed: UInt64(size))
        let compressed = try Gzip.compress(plain, blockSize: Self.block)
        try Self.expectDecodesEverywhere(compressed, to: plain)
        // Cutting the same input into other write sizes changes nothing.
        #expect(byteDifference(try Gzip.compress(plain, blockSize: Self.block, writeSize: 1000), compressed) == nil)
    }

    @Test("20 MB of text: small writes and large writes give the same, correct file")
    func largeInput() throws {
        let plain = Self.largeText
        let whole = try Gzip.compress(plain)
        #expect(whole.count < plain.count / 2)
        try Self.expectDecodesEverywhere(whole, to: plain)
        var small = [UInt8]()
        let writer = try ParallelGzipWriter(level: 6, workers: 2) { small.append(contentsOf: $0) }
        let sizes = [1, 7, 100, 1000, 4096, 65_537, 3]
        var offset = 0
        var turn = 0
        try plain.withUnsafeBytes { raw in
            while offset < raw.count {
                let end = min(offset + sizes[turn % sizes.count], raw.count)
                try writer.write(UnsafeRawBufferPointer(rebasing: raw[offset..<end]))
                offset = end
                turn += 1
            }
        }
        try writer.finish()
        #expect(byteDifference(small, whole) == nil)
        #expect(writer.uncompressedBytes == Int64(plain.count))
        #expect(writer.compressedBytes == Int64(whole.count))
    }

    @Test("incompressible input stays about the same size and decodes")
    func incompressible() throws {
        let plain = SampleData.random(bytes: 3 * 1024 * 1024 + 5)
        let compressed = try Gzip.compress(plain, blockSize: 256 * 1024)
        #expect(compressed.count <= plain.count + plain.count / 1000 + 64)
        try Self.expectDecodesEverywhere(compressed, to: plain)
    }

    @Test("levels 1 and 9 decode; 9 is no larger than 1", arguments: [1, 9])
    func levels(level: Int) throws {
        let plain = Array(Self.largeText.prefix(3 * 1024 * 1024))
        let compressed = try Gzip.compress(plain, level: level)
        try Self.expectDecodesEverywhere(compressed, to: plain)
        if level == 9 {
            #expect(compressed.count <= (try Gzip.compress(plain, level: 1)).count)
        }
    }

    @Test("level 6 output is within 1 % of gzip -6")
    func ratioMatchesGzip() throws {
        let dir = try TemporaryDirectory()
        let plain = Array(Self.largeText.prefix(4 * 1024 * 1024))
        let ours = try Gzip.compress(plain, level: 6)
        let theirs = try ExternalTool.gzip(plain, level: 6, in: dir)
        let ratio = Double(ours.count) / Double(theirs.count)
        #expect(abs(ratio - 1) <= 0.01, "ours \(ours.count) bytes, gzip -6 \(theirs.count) bytes")
    }

    @Test("one worker and two workers give the same decodable bytes")
    func workerCountDoesNotChangeOutput() throws {
        let plain = Array(Self.largeText.prefix(3 * 1024 * 1024 + 999))
        let one = try Gzip.compress(plain, workers: 1, blockSize: 128 * 1024)
        let two = try Gzip.compress(plain, workers: 2, blockSize: 128 * 1024)
        #expect(byteDifference(one, two) == nil)
        try Self.expectDecodesEverywhere(two, to: plain)
    }

    @Test("a block size below 64 KiB is raised to 64 KiB")
    func minimumBlockSize() throws {
        let plain = SampleData.text(bytes: 200_000, seed: 3)
        #expect(byteDifference(try Gzip.compress(plain, blockSize: 1), try Gzip.compress(plain, blockSize: 64 * 1024)) == nil)
    }

    struct SinkFailed: Error {}

    @Test("a failing sink stops the writer with the sink's error, without hanging")
    func sinkErrorPropagates() throws {
        var calls = 0
        let writer = try ParallelGzipWriter(level: 6, workers: 2, blockSize: 64 * 1024) { _ in
            calls += 1
            if calls > 1 { throw SinkFailed() }
        }
        let plain = SampleData.text(bytes: 2 * 1024 * 1024, seed: 9)
        #expect(throws: SinkFailed.self) {
            try plain.withUnsafeBytes { try writer.write($0) }
            try writer.finish()
        }
    }
}
