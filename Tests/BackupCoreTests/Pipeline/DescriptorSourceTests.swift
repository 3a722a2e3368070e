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

    @Test("pauses after small reads only on an enlarged pipe: never on a file or a pipe of the default size")
    func smallReadLimit() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("input", Self.text)
        let file = open(path, O_RDONLY | O_CLOEXEC)
        defer { close(file) }
        #expect(DescriptorSource.smallReadLimit(fd: file, chunkSize: 1 << 20) == 0)
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        #expect(DescriptorSource.smallReadLimit(fd: fds[0], chunkSize: 1 << 20) == 0)
        ChildProcess.enlargePipe(fds[0])
        #expect(DescriptorSource.smallReadLimit(fd: fds[0], chunkSize: 1 << 20) == 128 << 10)
        #expect(DescriptorSource.smallReadLimit(fd: fds[0], chunkSize: 64 << 10) == 8 << 10)
    }

    @Test("an enlarged pipe written a page at a time, slowly, arrives whole and in order")
    func tricklingPipe() throws {
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        ChildProcess.enlargePipe(fds[0])
        let (reader, writer) = (fds[0], fds[1])
        let bytes = Array(Self.text.prefix(600 * 1024))
        let thread = Thread {
            bytes.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let count = min(4096, raw.count - offset)
                    let written = write(writer, raw.baseAddress! + offset, count)
                    guard written > 0 else { break }
                    offset += written
                    if offset % (64 * 1024) == 0 { usleep(500) }
                }
            }
            close(writer)
        }
        thread.start()
        let sink = CollectingStage()
        try DescriptorSource(fd: reader, name: "pipe", closesDescriptor: true).pump(into: sink)
        #expect(byteDifference(sink.bytes, bytes) == nil)
        #expect(sink.finishCount == 1)
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
