import Foundation
import Testing

@testable import BackupCore

@Suite("Codec")
struct CodecTests {
    @Test("what an operation asks of each codec")
    func properties() {
        #expect(Codec.gzip.fileSuffix == ".sql.gz")
        #expect(Codec.zstd.fileSuffix == ".sql.zst")
        #expect(Codec.gzip.contentType == "application/gzip")
        #expect(Codec.zstd.contentType == "application/zstd")
        #expect(Codec.gzip.levels == 1...9)
        #expect(Codec.zstd.levels == 1...19)
        #expect(Codec.gzip.defaultLevel == 6)
        #expect(Codec.zstd.defaultLevel == 3)
        #expect(Codec(rawValue: "zstd") == .zstd)
        #expect(Codec(rawValue: "lz4") == nil)
        #expect(Codec.allCases == [.gzip, .zstd])
    }

    @Test("every level in range round-trips", arguments: Codec.allCases)
    func everyLevel(codec: Codec) throws {
        let plain = DumpText.make(bytes: 300_000, seed: 4)
        for level in codec.levels {
            let compressed = try StageRun.encode(plain, codec, level: level, pieces: [65_536])
            #expect(byteDifference(try StageRun.decode(compressed, codec), plain) == nil, "level \(level)")
        }
    }

    @Test("a level out of range is refused with the range in the message")
    func levelOutOfRange() {
        #expect(throws: CodecError.levelOutOfRange(.zstd, 22)) {
            _ = try Codec.zstd.encoder(level: 22, next: CollectingStage())
        }
        #expect(CodecError.levelOutOfRange(.zstd, 22).description == "zstd level 22 is out of range (1–19)")
        #expect(CodecError.levelOutOfRange(.gzip, 0).description == "gzip level 0 is out of range (1–9)")
    }

    @Test("each decoder refuses the other codec's output", arguments: Codec.allCases)
    func wrongCodec(codec: Codec) throws {
        let compressed = try StageRun.encode(DumpText.make(bytes: 10_000), codec)
        let other: Codec = codec == .gzip ? .zstd : .gzip
        #expect(throws: (any Error).self) { try StageRun.decode(compressed, other) }
    }

    @Test("error descriptions", arguments: [
        (CodecError.truncated(.zstd), "zstd data ends early (the file is truncated)"),
        (.trailingGarbage(.zstd), "unexpected bytes after the end of the zstd data"),
        (.checksumMismatch(.zstd), "zstd checksum does not match the data (the file is damaged)"),
        (.corrupt(.zstd, "Data corruption detected"), "zstd data is corrupt: Data corruption detected"),
        (.initFailed(.gzip, "out of memory"), "gzip could not start: out of memory"),
        (.compressFailed(.zstd, "Allocation error"), "zstd compression failed: Allocation error"),
    ])
    func descriptions(error: CodecError, text: String) {
        #expect(error.description == text)
    }
}
