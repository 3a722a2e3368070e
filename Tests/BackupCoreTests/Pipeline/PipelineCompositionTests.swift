import Foundation
import TestSupport
import Testing

@testable import BackupCore
import TestSupport

/// Whole chains as the operations build them, on real files.
@Suite("Pipeline composition")
struct PipelineCompositionTests {
    static let dump = Array(("--\n-- PostgreSQL database dump\n--\n\n").utf8) + DumpText.make(bytes: 3 * 1024 * 1024, seed: 51)
        + Array("\n--\n-- PostgreSQL database dump complete\n--\n\n".utf8)

    @Test("create's chain into a new dump, then verify's chain back: the same dump, and the recorded sha256 and size")
    func createThenVerify() throws {
        let dir = try TemporaryDirectory()
        let store = BackupStore(directory: dir.path)
        try store.prepare()
        let input = try dir.write("plain.sql", Self.dump)
        let fd = open(input, O_RDONLY | O_CLOEXEC)
        let newDump = try store.newDump("backup_db_20260129_120000.sql.gz")
        let pipeline = try CreateOperation.Pipeline(codec: .gzip, level: 6, progress: nil, into: newDump)
        try DescriptorSource(fd: fd, name: input, closesDescriptor: true).pump(into: pipeline.head)
        #expect(pipeline.trailer.problem == nil)
        #expect(pipeline.trailer.byteCount == Int64(Self.dump.count))
        let metadata = try newDump.commit {
            BackupMetadata(filename: newDump.name, createdAt: Date(timeIntervalSince1970: 1_769_688_000), database: "db",
                           sizeBytes: pipeline.size.count, description: "", sha256: pipeline.sha256.hexDigest,
                           uncompressedBytes: pipeline.trailer.byteCount, formatVersion: 1)
        }

        let stored = try [UInt8](Data(contentsOf: URL(fileURLWithPath: store.dumpPath(metadata.filename))))
        #expect(Int64(stored.count) == metadata.sizeBytes)
        #expect(byteDifference(try Gzip.decompress(stored), Self.dump) == nil)

        let plain = CollectingStage()
        let report = try BackupReader(storage: store).read(try store.metadata(metadata.filename), into: plain)
        #expect(report.sha256 == metadata.sha256)
        #expect(report.checksumChecked)
        #expect(report.uncompressedBytes == Int64(Self.dump.count))
        #expect(byteDifference(plain.bytes, Self.dump) == nil)
        #expect(plain.finishCount == 1)
    }

    @Test("verify's chain names what failed: a flipped byte, a dump cut short, a size that does not match")
    func verifyFailures() throws {
        let dir = try TemporaryDirectory()
        let store = BackupStore(directory: dir.path)
        let name = "backup_db_20260129_120000.sql.gz"
        let compressed = try StageRun.encode(Self.dump, .gzip)
        func metadata(_ bytes: [UInt8]) -> BackupMetadata {
            BackupMetadata(filename: name, createdAt: Date(), database: "db", sizeBytes: Int64(bytes.count), description: "")
        }
        let reader = BackupReader(storage: store)

        try dir.write(name, StageRun.flipped(compressed))
        #expect(throws: BackupError.self) { try reader.read(metadata(compressed)) }
        do {
            _ = try reader.read(metadata(compressed))
        } catch let BackupError.verificationFailed(failedName, reason) {
            #expect(failedName == name)
            #expect(reason.hasPrefix("gzip data is corrupt"), "\(reason)")
        }

        let cut = try StageRun.encode(Array(Self.dump.prefix(100_000)), .gzip)
        try dir.write(name, cut)
        #expect(throws: BackupError.verificationFailed(
            name: name, reason: "the dump does not end with pg_dump's completion line (it was cut short)")) {
            try reader.read(metadata(cut))
        }

        try dir.write(name, compressed)
        var recorded = metadata(compressed)
        recorded.sha256 = try reader.read(recorded).sha256
        recorded.sizeBytes += 1
        #expect(throws: BackupError.verificationFailed(
            name: name, reason: "size \(compressed.count) bytes does not match the recorded \(compressed.count + 1)")) {
            try reader.read(recorded)
        }
    }

    @Test("the dump header is read from the first decoded bytes only")
    func dumpHeader() throws {
        let dir = try TemporaryDirectory()
        let store = BackupStore(directory: dir.path)
        let name = "backup_db_20260129_120000.sql.gz"
        let head = "--\n-- PostgreSQL database dump\n--\n\n-- Dumped from database version 15.18 (Debian)\n"
            + "-- Dumped by pg_dump version 17.2\n\n"
        try dir.write(name, try StageRun.encode(Array(head.utf8) + Self.dump, .gzip))
        let header = DumpHeader.read(name, from: store, codec: .gzip)
        #expect(header == DumpHeader(dumpedFrom: "15.18 (Debian)", dumpedBy: "17.2"))
        #expect(DumpHeader.read("backup_db_20200101_000000.sql.gz", from: store, codec: .gzip) == DumpHeader())
    }
}
