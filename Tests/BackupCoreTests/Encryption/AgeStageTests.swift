import Foundation
import TestSupport
import Testing

@testable import BackupCore

/// The age stages with the real age, and the child-process stage under them with children that fail.
@Suite("age stages and the child-process stage", .serialized)
struct AgeStageTests {
    static func sample(_ count: Int) -> [UInt8] {
        var rng = SplitMix64(state: 13)
        return (0..<count).map { index in index % 3 == 0 ? UInt8(truncatingIfNeeded: rng.next()) : UInt8(ascii: "a") }
    }

    @Test("encrypts and decrypts in any chunking", arguments: [[Int.max], StageRun.oddPieces])
    func roundTrip(pieces: [Int]) throws {
        let keys = try AgeKeys()
        let plain = Self.sample(3 << 20) + Array("canary-plaintext-line\n".utf8)
        let encrypted = try keys.encrypt(plain, pieces: pieces)
        #expect(encrypted.starts(with: Array("age-encryption.org/v1\n".utf8)))
        #expect(encrypted.count > plain.count)
        let header = AgeHeaderStage()
        try StageRun.feed(encrypted, to: header, pieces: pieces)

        let sink = CollectingStage()
        try StageRun.feed(encrypted, to: try AgeDecryptStage(identity: try keys.identity(), tool: keys.tool, next: sink),
                          pieces: pieces)
        #expect(sink.bytes == plain)
        #expect(sink.finishCount == 1)
    }

    @Test func anEmptyInputStillMakesAWellFormedFile() throws {
        let keys = try AgeKeys()
        let encrypted = try keys.encrypt([])
        try StageRun.feed(encrypted, to: AgeHeaderStage())
        let sink = CollectingStage()
        try StageRun.feed(encrypted, to: try AgeDecryptStage(identity: try keys.identity(), tool: keys.tool, next: sink))
        #expect(sink.bytes.isEmpty)
    }

    @Test func aWrongIdentityFailsWithAgesMessageAndNoPlaintext() throws {
        let keys = try AgeKeys()
        let other = try AgeKeys()
        let encrypted = try keys.encrypt(Self.sample(200_000))
        let sink = CollectingStage()
        let error = #expect(throws: AgeError.self) {
            try StageRun.feed(encrypted, to: try AgeDecryptStage(identity: try other.identity(), tool: other.tool, next: sink))
        }
        #expect(error?.description.contains("no identity matched") == true, "\(String(describing: error))")
        #expect(sink.bytes.isEmpty)
        #expect(sink.finishCount == 0)
    }

    @Test func aFlippedPayloadByteFailsTheDecryption() throws {
        let keys = try AgeKeys()
        var encrypted = try keys.encrypt(Self.sample(300_000))
        encrypted[encrypted.count - 1000] ^= 0x01
        let sink = CollectingStage()
        #expect(throws: AgeError.self) {
            try StageRun.feed(encrypted, to: try AgeDecryptStage(identity: try keys.identity(), tool: keys.tool, next: sink))
        }
        #expect(sink.finishCount == 0)
    }

    @Test("a header that is not age's is refused", arguments: [
        "", "age-encryption.org/v1\n", "age-encryption.org/v2\n-> X25519 abc\nAAAA\n--- \(String(repeating: "A", count: 43))\n",
        "age-encryption.org/v1\n--- \(String(repeating: "A", count: 43))\n\(String(repeating: "x", count: 40))",
        "age-encryption.org/v1\n-> X25519 abc\nAA=A\n--- \(String(repeating: "A", count: 43))\n\(String(repeating: "x", count: 40))",
        "age-encryption.org/v1\n-> X25519 abc\nAAAA\n--- short\n\(String(repeating: "x", count: 40))",
        "age-encryption.org/v1\n-> X25519 abc\nAAAA\n--- \(String(repeating: "A", count: 43))\nshort payload",
        "\u{1F}\u{8B}\u{08}\u{00}gzip, not age",
    ])
    func badHeaders(text: String) {
        #expect(throws: AgeError.self) { try StageRun.feed(Array(text.utf8), to: AgeHeaderStage()) }
    }

    @Test func theChildProcessStagePassesBytesThroughACat() throws {
        let sink = CollectingStage()
        let input = Self.sample(2 << 20)
        let stage = try ChildProcessStage(Self.shell("cat"), name: "cat", next: sink) { ended, _ in Failed(ended) }
        try StageRun.feed(input, to: stage, pieces: StageRun.oddPieces)
        #expect(sink.bytes == input)
        #expect(sink.finishCount == 1)
    }

    @Test func aChildThatFailsAtTheEndIsAnErrorWithItsStderr() throws {
        let sink = CollectingStage()
        let stage = try ChildProcessStage(Self.shell("cat >/dev/null; echo boom >&2; exit 3"), name: "fails",
                                          next: sink) { ended, stderr in Failed("\(ended): \(stderr)") }
        #expect(throws: Failed("exited with status 3: boom")) { try StageRun.feed(Self.sample(100_000), to: stage) }
        #expect(sink.finishCount == 0)
    }

    @Test func aChildThatExitsAtOnceFailsTheNextWriteInsteadOfHanging() throws {
        let sink = CollectingStage()
        let stage = try ChildProcessStage(Self.shell("echo gone >&2; exit 1"), name: "gone", next: sink) { ended, stderr in
            Failed("\(ended): \(stderr)")
        }
        #expect(throws: Failed("exited with status 1: gone")) {
            try StageRun.feed([UInt8](repeating: 0x61, count: 8 << 20), to: stage, pieces: [65_536])
        }
        // Thrown again, not a crash, if a caller writes on.
        #expect(throws: Failed("exited with status 1: gone")) { try StageRun.feed([1, 2, 3], to: stage) }
    }

    @Test func aFailureDownstreamStopsTheChildAndIsThrownAsItWas() throws {
        let stage = try ChildProcessStage(Self.shell("cat"), name: "cat", next: FailingStage(writesBeforeFailing: 1)) {
            ended, _ in Failed(ended)
        }
        #expect(throws: FailingStage.Failed.self) { try StageRun.feed([UInt8](repeating: 0x61, count: 16 << 20), to: stage, pieces: [1 << 20]) }
    }

    @Test func aStageDroppedBeforeFinishKillsAndReapsItsChild() throws {
        let marker = try TemporaryDirectory(prefix: "childstage")
        defer { marker.remove() }
        let pidFile = marker.appending("pid").path
        var stage: ChildProcessStage? = try ChildProcessStage(
            Self.shell("echo $$ > '\(pidFile)'; exec sleep 60"), name: "sleeper", next: CollectingStage()) { ended, _ in
            Failed(ended)
        }
        #expect(Poll.until(timeout: 10) { FileManager.default.fileExists(atPath: pidFile) })
        let pid = try #require(Int32(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        let started = Date()
        stage = nil
        _ = stage
        #expect(Date().timeIntervalSince(started) < 10)
        // Gone, and reaped: no zombie left with that pid.
        #expect(kill(pid, 0) == -1 && errno == ESRCH)
    }

    struct Failed: Error, Equatable {
        let message: String
        init(_ message: String) { self.message = message }
    }

    static func shell(_ script: String) -> Command {
        Command(executable: "/bin/sh", arguments: ["-c", script], environment: ["PATH": "/usr/bin:/bin"])
    }
}
