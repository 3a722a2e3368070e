import Foundation
import TestSupport
import Testing

@testable import BackupCore

@Suite("ByteLimitStage")
struct ByteLimitStageTests {
    @Test("passes on the first bytes up to the limit, then throws Reached", arguments: [0, 1, 4, 5, 9])
    func limits(limit: Int) throws {
        let sink = CollectingStage()
        let stage = ByteLimitStage(limit: Int64(limit), next: sink)
        let chunks = [Array("abcde".utf8), Array("fghij".utf8)]
        var reached = false
        for chunk in chunks where !reached {
            do {
                try chunk.withUnsafeBytes { try stage.write($0) }
            } catch is ByteLimitStage.Reached {
                reached = true
            }
        }
        #expect(reached)
        #expect(sink.bytes == Array("abcdefghij".utf8).prefix(limit).map { $0 })
        #expect(stage.remaining == 0)
        try stage.finish()
        #expect(sink.finishCount == 1)
    }

    @Test("a pump into it stops reading at the limit instead of reading to the end")
    func stopsTheSource() throws {
        let dir = try TemporaryDirectory()
        let source = try DescriptorSourceTests.source(Array(repeating: 7, count: 100_000), in: dir)
        let reads = ChunkSizes()
        let sink = CollectingStage()
        reads.next = ByteLimitStage(limit: 10, next: sink)
        #expect(throws: ByteLimitStage.Reached.self) { try source.pump(into: reads, chunkSize: 4) }
        #expect(reads.count == 3)
        #expect(sink.bytes.count == 10)
    }

    @Test("under the limit it passes everything and throws nothing")
    func underLimit() throws {
        let sink = CollectingStage()
        let stage = ByteLimitStage(limit: 100, next: sink)
        try Array("abc".utf8).withUnsafeBytes { try stage.write($0) }
        try stage.finish()
        #expect(sink.bytes == Array("abc".utf8))
        #expect(stage.remaining == 97)
        #expect(sink.finishCount == 1)
    }
}

@Suite("DownloadBody")
struct DownloadBodyTests {
    static let text = DumpText.make(bytes: 300 * 1024 + 77, seed: 43)

    /// A body over a stored dump holding `bytes`, the way `BackupStore.openDump` opens one.
    static func body(_ bytes: [UInt8], in dir: TemporaryDirectory) throws -> (body: DownloadBody, file: OpenFile) {
        let path = try dir.write("dump", bytes)
        let file = try OpenFile(path)
        let source = DescriptorSource(fd: file.fd, name: path, closesDescriptor: true)
        return (DownloadBody(StoredDump(source: source, size: Int64(bytes.count))), file)
    }

    static func sent(_ body: DownloadBody, chunkSize: Int) throws -> (bytes: [UInt8], largest: Int) {
        var bytes: [UInt8] = []
        var largest = 0
        try body.send(chunkSize: chunkSize) { chunk in
            bytes.append(contentsOf: chunk)
            largest = max(largest, chunk.count)
        }
        return (bytes, largest)
    }

    @Test("sends the whole dump in chunks no larger than asked, then closes it", arguments: [256 * 1024, 4096, 1000])
    func whole(chunkSize: Int) throws {
        let dir = try TemporaryDirectory()
        let (body, file) = try Self.body(Self.text, in: dir)
        #expect(body.size == Int64(Self.text.count))
        #expect(body.offset == 0 && body.count == body.size)
        let sent = try Self.sent(body, chunkSize: chunkSize)
        #expect(byteDifference(sent.bytes, Self.text) == nil)
        #expect(sent.largest <= chunkSize)
        #expect(!file.isOpen, "the descriptor is closed once sent")
    }

    @Test("a selected range sends exactly its bytes", arguments: [
        (0, 1), (10, 10), (4095, 2), (100_000, 200_001), (300 * 1024 + 76, 1), (0, 300 * 1024 + 77),
    ])
    func range(offset: Int, count: Int) throws {
        let dir = try TemporaryDirectory()
        let (body, _) = try Self.body(Self.text, in: dir)
        try body.select(from: Int64(offset), count: Int64(count))
        #expect(body.offset == Int64(offset) && body.count == Int64(count))
        #expect(body.size == Int64(Self.text.count))
        let sent = try Self.sent(body, chunkSize: 4096)
        #expect(byteDifference(sent.bytes, Array(Self.text[offset..<(offset + count)])) == nil)
    }

    @Test("an empty dump sends nothing")
    func empty() throws {
        let dir = try TemporaryDirectory()
        let (body, _) = try Self.body([], in: dir)
        #expect(try Self.sent(body, chunkSize: 4096).bytes.isEmpty)
    }

    @Test("what the writer throws comes out unchanged, and the dump is closed")
    func writerError() throws {
        struct ClientGone: Error {}
        let dir = try TemporaryDirectory()
        let (body, file) = try Self.body(Self.text, in: dir)
        #expect(throws: ClientGone.self) { try body.send(chunkSize: 4096) { _ in throw ClientGone() } }
        #expect(!file.isOpen)
    }

    @Test("a body dropped unsent closes the dump (a HEAD, a refused download)")
    func droppedUnsent() throws {
        let dir = try TemporaryDirectory()
        let file = try Self.body(Self.text, in: dir).file
        #expect(!file.isOpen)
    }
}

/// A descriptor opened on a file, and whether it is still open on that file: tests run in parallel, so a closed
/// number may already be some other file's.
struct OpenFile {
    let fd: Int32
    private let device: UInt64
    private let inode: UInt64

    init(_ path: String) throws {
        fd = open(path, O_RDONLY | O_CLOEXEC)
        try #require(fd >= 0)
        var status = stat()
        try #require(fstat(fd, &status) == 0)
        device = UInt64(status.st_dev)
        inode = UInt64(status.st_ino)
    }

    var isOpen: Bool {
        var status = stat()
        return fstat(fd, &status) == 0 && UInt64(status.st_dev) == device && UInt64(status.st_ino) == inode
    }
}
