import Foundation
import TestSupport
import Testing

@testable import BackupCore

@Suite("GzipDecoder")
struct GzipDecoderTests {
    static let plain = SampleData.text(bytes: 300_000, seed: 11)
    static let compressed = (try? Gzip.compress(plain)) ?? []

    @Test("decodes the system gzip's output")
    func systemGzip() throws {
        let dir = try TemporaryDirectory()
        let theirs = try ExternalTool.gzip(Self.plain, level: 9, in: dir)
        #expect(byteDifference(try Gzip.decompress(theirs), Self.plain) == nil)
    }

    @Test("feeding one byte at a time gives the same output", arguments: [1, 2, 3, 4096])
    func smallChunks(chunkSize: Int) throws {
        #expect(byteDifference(try Gzip.decompress(Self.compressed, chunkSize: chunkSize), Self.plain) == nil)
    }

    @Test("a tiny input that expands to megabytes is decoded completely")
    func hugeExpansion() throws {
        let zeros = [UInt8](repeating: 0, count: 8 * 1024 * 1024 + 3)
        let compressed = try Gzip.compress(zeros)
        #expect(compressed.count < 20_000)
        #expect(byteDifference(try Gzip.decompress(compressed, chunkSize: compressed.count), zeros) == nil)
    }

    @Test("several members in a row (cat a.gz b.gz) decode to the concatenation", arguments: [1, 7, 1 << 16])
    func multiMember(chunkSize: Int) throws {
        let dir = try TemporaryDirectory()
        let a = Array("first member\n".utf8)
        let b = SampleData.text(bytes: 70_000, seed: 12)
        let c = Array("third, from gzip(1)\n".utf8)
        let joined = try Gzip.compress(a) + Gzip.compress([]) + Gzip.compress(b)
            + ExternalTool.gzip(c, level: 6, in: dir)
        #expect(byteDifference(try Gzip.decompress(joined, chunkSize: chunkSize), a + b + c) == nil)
        // gzip(1) agrees.
        #expect(byteDifference(try ExternalTool.gunzip(joined, in: dir).stdout, a + b + c) == nil)
    }

    @Test(
        "a truncated stream is reported as truncated",
        arguments: [0, 1, 5, 10, 11, 100, 5000, -9, -8, -4, -1])
    func truncated(cut: Int) {
        let keep = cut >= 0 ? cut : Self.compressed.count + cut
        let input = Array(Self.compressed.prefix(keep))
        #expect(throws: GzipError.truncated) { try Gzip.decompress(input) }
    }

    @Test("a second member cut short is reported as truncated")
    func truncatedSecondMember() throws {
        let second = try Gzip.compress(Array("more".utf8))
        #expect(throws: GzipError.truncated) { try Gzip.decompress(Self.compressed + second.prefix(12)) }
    }

    @Test("a flipped byte in the CRC is a CRC error")
    func flippedCRC() {
        var damaged = Self.compressed
        damaged[damaged.count - 6] ^= 0x01
        #expect(throws: GzipError.corrupt("incorrect data check")) { try Gzip.decompress(damaged) }
    }

    @Test("a flipped byte in the length is a length error")
    func flippedLength() {
        var damaged = Self.compressed
        damaged[damaged.count - 3] ^= 0x40
        #expect(throws: GzipError.corrupt("incorrect length check")) { try Gzip.decompress(damaged) }
    }

    @Test("a flipped byte in the compressed data is detected", arguments: [20, 1000, 30_000, 60_001])
    func flippedData(offset: Int) throws {
        var damaged = Self.compressed
        try #require(offset < damaged.count - 8)
        damaged[offset] ^= 0x10
        do {
            let output = try Gzip.decompress(damaged)
            Issue.record("a damaged stream decoded to \(output.count) bytes")
        } catch let error as GzipError {
            // zlib notices either a bad code or the CRC; both are 'corrupt'.
            guard case .corrupt = error else {
                Issue.record("expected .corrupt, got \(error)")
                return
            }
        }
    }

    @Test("a damaged header is corrupt")
    func badHeader() {
        var damaged = Self.compressed
        damaged[2] = 0x07  // not deflate
        #expect(throws: GzipError.self) { try Gzip.decompress(damaged) }
        #expect(throws: GzipError.corrupt("incorrect header check")) { try Gzip.decompress(Array("hello, not gzip".utf8)) }
    }

    @Test(
        "bytes after the last member are trailing garbage",
        arguments: [Array("garbage".utf8), [0, 0, 0, 0], [0x0a]])
    func trailingGarbage(garbage: [UInt8]) {
        #expect(throws: GzipError.trailingGarbage) { try Gzip.decompress(Self.compressed + garbage) }
        // The same when the garbage arrives in its own read.
        #expect(throws: GzipError.trailingGarbage) {
            try Gzip.decompress(Self.compressed + garbage, chunkSize: Self.compressed.count)
        }
    }

    @Test("garbage that starts like a gzip member is not accepted")
    func garbageWithMagic() {
        #expect(throws: GzipError.self) { try Gzip.decompress(Self.compressed + [0x1f, 0x00, 0x01, 0x02]) }
    }

    @Test("error descriptions are one clear sentence")
    func descriptions() {
        #expect(GzipError.truncated.description == "gzip data ends early (the file is truncated)")
        #expect(GzipError.trailingGarbage.description == "unexpected bytes after the end of the gzip data")
        #expect(GzipError.corrupt("incorrect data check").description == "gzip data is corrupt: incorrect data check")
        #expect(GzipError.initFailed(-2).description == "zlib could not start (code -2)")
    }
}
