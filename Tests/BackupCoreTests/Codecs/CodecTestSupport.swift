import Foundation
import Testing

@testable import BackupCore
import TestSupport

/// The end of a test pipeline: keeps everything written to it and counts `finish()` calls.
final class CollectingStage: ByteStage {
    private(set) var bytes: [UInt8] = []
    private(set) var finishCount = 0

    func write(_ chunk: UnsafeRawBufferPointer) throws { bytes.append(contentsOf: chunk) }
    func finish() throws { finishCount += 1 }
}

/// A stage that accepts `writesBeforeFailing` writes, then throws `Failed` on every further one.
final class FailingStage: ByteStage {
    struct Failed: Error {}
    private var writesLeft: Int

    init(writesBeforeFailing: Int) { writesLeft = writesBeforeFailing }

    func write(_ chunk: UnsafeRawBufferPointer) throws {
        if writesLeft == 0 { throw Failed() }
        writesLeft -= 1
    }

    func finish() throws {}
}

enum StageRun {
    /// Odd chunk sizes, as a pipe or a network read would hand them over.
    static let oddPieces = [1, 7, 100, 1000, 4096, 65_537, 3, 250_001]

    /// Writes `input` to `stage` in pieces of the given sizes (cycled), then finishes it.
    static func feed(_ input: [UInt8], to stage: ByteStage, pieces: [Int] = [Int.max]) throws {
        var offset = 0
        var turn = 0
        try input.withUnsafeBytes { raw in
            while offset < raw.count {
                let end = offset + min(pieces[turn % pieces.count], raw.count - offset)
                try stage.write(UnsafeRawBufferPointer(rebasing: raw[offset..<end]))
                offset = end
                turn += 1
            }
        }
        try stage.finish()
    }

    /// `plain` through the codec's encoder at `level` (its default when nil).
    static func encode(_ plain: [UInt8], _ codec: Codec, level: Int? = nil, pieces: [Int] = [Int.max]) throws -> [UInt8] {
        let sink = CollectingStage()
        try feed(plain, to: try codec.encoder(level: level ?? codec.defaultLevel, next: sink), pieces: pieces)
        #expect(sink.finishCount == 1)
        return sink.bytes
    }

    /// `compressed` through the codec's decoder.
    static func decode(_ compressed: [UInt8], _ codec: Codec, pieces: [Int] = [64 * 1024]) throws -> [UInt8] {
        let sink = CollectingStage()
        try feed(compressed, to: try codec.decoder(next: sink), pieces: pieces)
        #expect(sink.finishCount == 1)
        return sink.bytes
    }

    /// The same bytes with one byte inverted halfway through.
    static func flipped(_ bytes: [UInt8]) -> [UInt8] {
        var copy = bytes
        copy[copy.count / 2] ^= 0xff
        return copy
    }
}

extension ExternalTool {
    /// `zstd -dc FILE`.
    static func unzstd(_ compressed: [UInt8], in directory: TemporaryDirectory) throws -> (status: Int32, stdout: [UInt8]) {
        let path = try directory.write("input-\(UUID().uuidString).zst", compressed)
        return try run("/usr/bin/zstd", ["-dc", path])
    }

    /// The exit status of `zstd -t FILE` (or `gzip -t FILE` for `.gzip`).
    static func integrityTest(_ compressed: [UInt8], _ codec: Codec, in directory: TemporaryDirectory) throws -> Int32 {
        let path = try directory.write("input-\(UUID().uuidString)\(codec.fileSuffix)", compressed)
        return try run(codec == .gzip ? "/usr/bin/gzip" : "/usr/bin/zstd", ["-t", path]).status
    }

    /// `zstd -LEVEL -c FILE`.
    static func zstd(_ plain: [UInt8], level: Int, in directory: TemporaryDirectory) throws -> [UInt8] {
        let path = try directory.write("plain-\(UUID().uuidString)", plain)
        let result = try run("/usr/bin/zstd", ["-\(level)", "-q", "-c", path])
        guard result.status == 0 else { throw HarnessError.setup("zstd exited with \(result.status)") }
        return result.stdout
    }
}

/// Text shaped like the benchmark database's plain dump: DDL, then COPY rows of a table of md5 text, jsonb
/// and bytea (compresses to about a quarter) and of pgbench_accounts (mostly blanks, compresses very well).
enum DumpText {
    static func make(bytes count: Int, seed: UInt64 = 11) -> [UInt8] {
        var rng = SplitMix64(state: seed)
        var out = Array("--\n-- PostgreSQL database dump\n--\n\nSET statement_timeout = 0;\n".utf8)
        out += Array("CREATE TABLE public.bench_docs (\n    id bigint NOT NULL,\n    body text NOT NULL\n);\n\n".utf8)
        out += Array("COPY public.bench_docs (id, created_at, title, body, attrs, payload, score) FROM stdin;\n".utf8)
        let shared = (0..<251).map { _ in hex(&rng, digits: 16) }
        var row = 0
        while out.count < count / 2 {
            row += 1
            let body = hex(&rng, digits: 32) + " " + String(repeating: shared[row % 251] + " ", count: 1 + row % 4)
                + "lorem ipsum dolor sit amet, consectetur adipiscing elit " + hex(&rng, digits: 32)
            let attrs = "{\"n\": \(rng.next() % 1_000_000 / 1000).\(rng.next() % 1000), \"id\": \(row), \"hash\": \""
                + hex(&rng, digits: 32) + "\", \"tags\": [\"tag\(row % 13)\", \"tag\(row % 7)\"], \"owner\": \"user\(row % 1000)\", "
                + "\"active\": \(row % 3 == 0)}"
            let line = "\(row)\t2024-01-01 00:00:\(row % 60)+00\tDocument \(row) about \(shared[row % 251].prefix(12))\t"
                + body + "\t" + attrs + "\t\\\\x" + hex(&rng, digits: 64) + "\t0.\(rng.next() % 1_000_000)\n"
            out += Array(line.utf8)
        }
        out += Array("\\.\n\n\nCOPY public.pgbench_accounts (aid, bid, abalance, filler) FROM stdin;\n".utf8)
        let filler = String(repeating: " ", count: 84)
        while out.count < count {
            row += 1
            out += Array("\(row)\t\(row / 100_000 + 1)\t0\t\(filler)\n".utf8)
        }
        return Array(out.prefix(count))
    }

    private static func hex(_ rng: inout SplitMix64, digits: Int) -> String {
        var text = ""
        while text.count < digits { text += String(rng.next(), radix: 16).leftPadded(to: 16) }
        return String(text.prefix(digits))
    }
}

private extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

/// The nice values of this process's threads, read from /proc (Linux keeps one per thread).
enum CompressionThreads {
    static func niceOfCallingThread() -> Int32 {
        getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
    }

    /// Waits up to two seconds for at least `count` threads of this process to run at `nice`.
    static func waitForThreads(atNice nice: Int32, count: Int) throws -> Bool {
        for _ in 0..<200 {
            if try threadNiceValues().filter({ $0 == nice }).count >= count { return true }
            usleep(10_000)
        }
        return false
    }

    private static func threadNiceValues() throws -> [Int32] {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").compactMap { task in
            guard let stat = try? String(contentsOfFile: "/proc/self/task/\(task)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            // After "pid (comm) ": state is field 3, nice is field 19.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 16 ? Int32(fields[16]) : nil
        }
    }
}
