import Foundation
import TestSupport
import Testing

@testable import BackupCore
import TestSupport

@Suite("DescriptorSource")
struct DescriptorSourceTests {
    static let text = DumpText.make(bytes: 2 * 1024 * 1024 + 333, seed: 41)

    /// A source over a file holding `bytes`.
    static func source(_ bytes: [UInt8], in dir: TemporaryDirectory) throws -> DescriptorSource {
        let path = try dir.write("input", bytes)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        try #require(fd >= 0)
        return DescriptorSource(fd: fd, name: path, closesDescriptor: true)
    }

    @Test("reads to the end in chunks of the size asked, then finishes the stage once", arguments: [1 << 20, 64 * 1024, 1000])
    func pumpsEverything(chunkSize: Int) throws {
        let dir = try TemporaryDirectory()
        let sizes = ChunkSizes()
        let sink = CollectingStage()
        sizes.next = sink
        try Self.source(Self.text, in: dir).pump(into: sizes, chunkSize: chunkSize)
        #expect(byteDifference(sink.bytes, Self.text) == nil)
        #expect(sink.finishCount == 1)
        #expect(sizes.largest <= chunkSize)
        #expect(sizes.count >= Self.text.count / chunkSize)
    }

    @Test("an empty input finishes the stage without writing")
    func emptyInput() throws {
        let dir = try TemporaryDirectory()
        let sink = CollectingStage()
        try Self.source([], in: dir).pump(into: sink)
        #expect(sink.bytes.isEmpty)
        #expect(sink.finishCount == 1)
    }

    @Test("a failed read is an I/O error naming what was read")
    func readError() throws {
        let dir = try TemporaryDirectory()
        let fd = open(dir.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        let source = DescriptorSource(fd: fd, name: "pg_dump output", closesDescriptor: true)
        #expect(throws: BackupError.io(path: "pg_dump output", message: "Is a directory")) {
            try source.pump(into: CollectingStage())
        }
    }

    @Test("a stage's error stops the reading and comes out unchanged")
    func stageError() throws {
        let dir = try TemporaryDirectory()
        #expect(throws: FailingStage.Failed.self) {
            try Self.source(Self.text, in: dir).pump(into: FailingStage(writesBeforeFailing: 1), chunkSize: 4096)
        }
    }

    @Test("a seek moves where the reading starts")
    func seek() throws {
        let dir = try TemporaryDirectory()
        let source = try Self.source(Array("abcdef".utf8), in: dir)
        let sink = CollectingStage()
        try source.seek(to: 4)
        try source.pump(into: sink)
        #expect(sink.bytes == Array("ef".utf8))
    }

    @Test("a descriptor it owns is closed when it goes away")
    func ownedDescriptor() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("input", Array("abc".utf8))
        let file = try OpenFile(path)
        do { _ = DescriptorSource(fd: file.fd, name: path, closesDescriptor: true) }
        #expect(!file.isOpen)
    }

    @Test("a descriptor it does not own stays open")
    func borrowedDescriptor() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("input", Array("abc".utf8))
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        do {
            let source = DescriptorSource(fd: fd, name: path, closesDescriptor: false)
            try source.pump(into: CollectingStage())
        }
        #expect(fcntl(fd, F_GETFD) >= 0)
        close(fd)
    }
}

/// Passes chunks on and remembers their sizes.
final class ChunkSizes: ByteStage {
    var next: ByteStage = DiscardSink()
    private(set) var largest = 0
    private(set) var count = 0

    func write(_ chunk: UnsafeRawBufferPointer) throws {
        largest = max(largest, chunk.count)
        count += 1
        try next.write(chunk)
    }

    func finish() throws { try next.finish() }
}
