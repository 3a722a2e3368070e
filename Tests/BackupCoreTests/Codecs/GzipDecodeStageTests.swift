import Foundation
import Testing

@testable import BackupCore
import TestSupport

@Suite("GzipDecodeStage")
struct GzipDecodeStageTests {
    static let plain = DumpText.make(bytes: 3 * 1024 * 1024 + 17, seed: 21)

    @Test("a single-member file made by gzip -6 decodes, in any chunk sizes", arguments: [[64 * 1024], StageRun.oddPieces, [1]])
    func gzipToolOutput(pieces: [Int]) throws {
        let dir = try TemporaryDirectory()
        let input = pieces == [1] ? Array(Self.plain.prefix(200_000)) : Self.plain
        let compressed = try ExternalTool.gzip(input, level: 6, in: dir)
        #expect(byteDifference(try StageRun.decode(compressed, .gzip, pieces: pieces), input) == nil)
    }

    @Test("our libdeflate members and the old writer's single member decode the same")
    func bothWritersDecode() throws {
        let members = try StageRun.encode(Self.plain, .gzip)
        let single = try Gzip.compress(Self.plain)
        #expect(byteDifference(try StageRun.decode(members, .gzip), Self.plain) == nil)
        #expect(byteDifference(try StageRun.decode(single, .gzip), Self.plain) == nil)
    }

    @Test("a stream cut short is truncated")
    func truncated() throws {
        let compressed = try StageRun.encode(Self.plain, .gzip)
        #expect(throws: GzipError.truncated) { try StageRun.decode(Array(compressed.prefix(compressed.count / 2)), .gzip) }
        #expect(throws: GzipError.truncated) { try StageRun.decode(Array(compressed.dropLast()), .gzip) }
    }

    @Test("a flipped byte is rejected")
    func flippedByte() throws {
        let compressed = try StageRun.encode(Self.plain, .gzip)
        #expect(throws: GzipError.self) { try StageRun.decode(StageRun.flipped(compressed), .gzip) }
    }

    @Test("bytes after the last member are rejected")
    func trailingGarbage() throws {
        let compressed = try StageRun.encode(Array(Self.plain.prefix(10_000)), .gzip)
        #expect(throws: GzipError.trailingGarbage) { try StageRun.decode(compressed + Array("junk".utf8), .gzip) }
    }

    @Test("the byte counts add up")
    func counts() throws {
        let compressed = try StageRun.encode(Self.plain, .gzip)
        let sink = CollectingStage()
        let stage = try GzipDecodeStage(next: sink)
        try StageRun.feed(compressed, to: stage, pieces: [4096])
        #expect(stage.compressedBytes == Int64(compressed.count))
        #expect(stage.uncompressedBytes == Int64(Self.plain.count))
        #expect(sink.finishCount == 1)
    }
}
