import Foundation
import TestSupport
import Testing

@testable import BackupCore
import TestSupport

/// The restore filter as a stage, and the sinks at the ends of pipelines.
@Suite("Restore filter stage and sinks")
struct TransformingStageTests {
    static let lockLine = Array("SET lock_timeout = '7s';".utf8)

    /// What `RestoreFilter` makes of `dump` in one go, with the stage's lock-timeout line.
    static func filtered(_ dump: [UInt8]) throws -> [UInt8] {
        var filter = RestoreFilter()
        filter.lockTimeoutLine = lockLine
        var output: [UInt8] = []
        try dump.withUnsafeBytes { try filter.process($0) { output.append(contentsOf: $0) } }
        try filter.finish { output.append(contentsOf: $0) }
        return output
    }

    @Test("the restore filter stage writes what RestoreFilter makes, in any chunking", arguments: [[Int.max], StageRun.oddPieces, [1]])
    func restoreFilter(pieces: [Int]) throws {
        let dump = Array(RestoreFilterTests.dumpWithLargeObjects.utf8) + Array("SET lock_timeout = 0;\nlast line without newline".utf8)
        let sink = CollectingStage()
        try StageRun.feed(dump, to: RestoreFilterStage(lockTimeoutLine: Self.lockLine, next: sink), pieces: pieces)
        let expected = try Self.filtered(dump)
        #expect(byteDifference(sink.bytes, expected) == nil)
        #expect(String(decoding: sink.bytes, as: UTF8.self).hasSuffix("last line without newline"))
        #expect(String(decoding: sink.bytes, as: UTF8.self).contains(RestoreFilterTests.note))
        #expect(sink.finishCount == 1)
    }

    @Test("psql input: nothing reaches psql before a flush unless a block fills; finish sends nothing")
    func psqlInputHoldsTheEnd() throws {
        let psql = try StandIn()
        let input = PsqlInput(fd: psql.fd)
        input.send(Array("BEGIN;\n".utf8))
        try StageRun.feed(Array("SELECT 1;\n".utf8), to: input)
        #expect(try psql.received() == [])
        input.send(Array("COMMIT;\n".utf8))
        try input.flush()
        #expect(try psql.received() == Array("BEGIN;\nSELECT 1;\nCOMMIT;\n".utf8))
        #expect(!input.psqlGone)
    }

    @Test("psql input: a full block goes out at once")
    func psqlInputWritesFullBlocks() throws {
        let psql = try StandIn()
        let input = PsqlInput(fd: psql.fd)
        let block = [UInt8](repeating: 0x41, count: (1 << 20) + 10)
        try block.withUnsafeBytes { try input.write($0) }
        #expect(try psql.received().count == block.count)
    }

    @Test("psql input: a failed write marks psql gone and names its input")
    func psqlInputFailure() throws {
        let readOnly = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(readOnly) }
        let input = PsqlInput(fd: readOnly)
        input.send(Array("BEGIN;\n".utf8))
        #expect(throws: BackupError.io(path: "psql input", message: "Bad file descriptor")) { try input.flush() }
        #expect(input.psqlGone)
    }

    @Test("the prefix sink keeps the first bytes and then stops the pipeline")
    func prefixSink() throws {
        let sink = PrefixSink(limit: 10)
        #expect(throws: PrefixSink.Full.self) {
            try StageRun.feed(Array("0123456789abcdef".utf8), to: sink, pieces: [4])
        }
        #expect(sink.bytes == Array("0123456789".utf8))
        let short = PrefixSink(limit: 10)
        try StageRun.feed(Array("0123".utf8), to: short)
        #expect(short.bytes == Array("0123".utf8))
    }

    @Test("the memory sink keeps everything; the discard sink nothing")
    func memoryAndDiscard() throws {
        let memory = MemorySink()
        try StageRun.feed(Array("abc".utf8), to: memory, pieces: [1])
        #expect(memory.bytes == Array("abc".utf8))
        try StageRun.feed(Array("abc".utf8), to: DiscardSink())
    }
}

/// A file standing in for psql's stdin.
final class StandIn {
    private let directory: TemporaryDirectory
    private let path: String
    let fd: Int32

    init() throws {
        directory = try TemporaryDirectory()
        path = directory.file("psql-input")
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw HarnessError.setup("cannot create \(path)") }
    }

    deinit { close(fd) }

    /// What was written so far.
    func received() throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }
}
