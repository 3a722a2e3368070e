import Foundation
import Synchronization
import Testing

@testable import BackupCore
import TestSupport

/// The stages that look at the bytes going by and pass them on unchanged.
@Suite("Observing stages")
struct ObservingStageTests {
    static let text = DumpText.make(bytes: 300_000, seed: 31)

    @Test("SHA-256: the digest of what passed, in lower-case hex, and the bytes unchanged", arguments: [[Int.max], StageRun.oddPieces])
    func sha256(pieces: [Int]) throws {
        let sink = CollectingStage()
        let stage = SHA256Stage(next: sink)
        try StageRun.feed(Array("abc".utf8), to: stage, pieces: pieces)
        #expect(stage.hexDigest == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(sink.bytes == Array("abc".utf8))
        #expect(sink.finishCount == 1)
    }

    @Test("SHA-256 of nothing")
    func sha256OfNothing() throws {
        let stage = SHA256Stage(next: DiscardSink())
        #expect(stage.hexDigest == nil)
        try stage.finish()
        #expect(stage.hexDigest == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test("byte count: every byte of every chunk", arguments: [[Int.max], StageRun.oddPieces, [1]])
    func byteCount(pieces: [Int]) throws {
        let input = Array(Self.text.prefix(pieces == [1] ? 5000 : Self.text.count))
        let sink = CollectingStage()
        let stage = ByteCountStage(next: sink)
        try StageRun.feed(input, to: stage, pieces: pieces)
        #expect(stage.count == Int64(input.count))
        #expect(byteDifference(sink.bytes, input) == nil)
        #expect(sink.finishCount == 1)
    }

    @Test("dump trailer: a complete dump has no problem, whatever the chunking", arguments: [[Int.max], [1], [3, 5]])
    func trailerComplete(pieces: [Int]) throws {
        let dump = Array(("--\n-- PostgreSQL database dump\n--\n\n\\restrict KEY1\nSET x = 1;\n"
            + "--\n-- PostgreSQL database dump complete\n--\n\n\\unrestrict KEY1\n").utf8)
        let sink = CollectingStage()
        let stage = DumpTrailerStage(next: sink)
        try StageRun.feed(dump, to: stage, pieces: pieces)
        #expect(stage.problem == nil)
        #expect(stage.byteCount == Int64(dump.count))
        #expect(sink.bytes == dump)
        #expect(sink.finishCount == 1)
    }

    @Test("dump trailer: a dump cut short says so")
    func trailerCut() throws {
        let stage = DumpTrailerStage(next: DiscardSink())
        try StageRun.feed(Array(Self.text.prefix(10_000)), to: stage, pieces: [4096])
        #expect(stage.problem == "the dump does not end with pg_dump's completion line (it was cut short)")
        #expect(stage.byteCount == 10_000)
    }

    @Test("progress: the first chunk is reported at once, later ones at most twice a second, reportNow always")
    func progress() throws {
        let reports = Mutex<[OperationProgress]>([])
        let sink = CollectingStage()
        let stage = ProgressStage(phase: "verify", handler: { report in reports.withLock { $0.append(report) } }, next: sink)
        try StageRun.feed(Array(Self.text.prefix(3000)), to: stage, pieces: [1000])
        // Three writes in well under half a second: one report (a stall of the loaded machine could add one).
        let throttled = reports.withLock { $0 }
        #expect(throttled.first?.bytes == 1000 && throttled.first?.phase == "verify")
        #expect(throttled.count <= 2, "\(throttled)")
        stage.reportNow()
        #expect(reports.withLock { $0.last?.bytes } == 3000)
        #expect(reports.withLock { $0.count } == throttled.count + 1)
        #expect(byteDifference(sink.bytes, Array(Self.text.prefix(3000))) == nil)
        #expect(sink.finishCount == 1)
    }

    @Test("progress without a handler only passes the bytes on")
    func progressWithoutHandler() throws {
        let sink = CollectingStage()
        let stage = ProgressStage(phase: "dump", handler: nil, next: sink)
        try StageRun.feed(Array(Self.text.prefix(5000)), to: stage, pieces: [777])
        stage.reportNow()
        #expect(byteDifference(sink.bytes, Array(Self.text.prefix(5000))) == nil)
    }

    @Test("an observing stage passes the next stage's error on")
    func errorsPassThrough() throws {
        let stages: [ByteStage] = [SHA256Stage(next: FailingStage(writesBeforeFailing: 1)),
                                   ByteCountStage(next: FailingStage(writesBeforeFailing: 1)),
                                   DumpTrailerStage(next: FailingStage(writesBeforeFailing: 1)),
                                   ProgressStage(phase: "dump", handler: nil, next: FailingStage(writesBeforeFailing: 1))]
        for stage in stages {
            #expect(throws: FailingStage.Failed.self) { try StageRun.feed(Array(Self.text.prefix(3000)), to: stage, pieces: [1000]) }
        }
    }
}
