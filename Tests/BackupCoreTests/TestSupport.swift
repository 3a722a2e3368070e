import CZlib
import Foundation
import Testing

@testable import BackupCore

/// A directory under /tmp that is removed when the value goes away.
final class TemporaryDirectory {
    let path: String

    init() throws {
        var template = Array("/tmp/pgbackup-unit.XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { buffer -> Bool in
            guard let base = buffer.baseAddress else { return false }
            return mkdtemp(base) != nil
        }
        guard created else { throw TestFailure("mkdtemp failed: \(String(cString: strerror(errno)))") }
        path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { "\(path)/\(name)" }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        try write(name, Array(text.utf8))
    }

    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let target = file(name)
        guard FileManager.default.createFile(atPath: target, contents: Data(bytes)) else {
            throw TestFailure("cannot write \(target)")
        }
        return target
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Deterministic pseudo-random numbers (SplitMix64), so every run compresses the same bytes.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum SampleData {
    private static let words: [[UInt8]] = [
        "customer", "order", "invoice", "alpha", "beta", "gamma", "delta", "postgres", "backup", "restore",
        "Berlin", "Paris", "Lisbon", "Oslo", "Kyoto", "shipped", "pending", "cancelled", "refund", "widget",
        "gadget", "sprocket", "the", "and", "of", "with", "quick", "brown", "fox", "lazy", "dog", "\\N", "true",
        "false", "2026-01-29", "14:30:22", "EUR", "USD", "note", "warehouse",
    ].map { Array($0.utf8) }

    /// Text shaped like COPY data: tab-separated rows of words, numbers and dates.
    static func text(bytes count: Int, seed: UInt64 = 1) -> [UInt8] {
        var rng = SplitMix64(seed: seed)
        var out = [UInt8]()
        out.reserveCapacity(count + 128)
        var row = 0
        while out.count < count {
            row += 1
            out.append(contentsOf: Array(String(row).utf8))
            for _ in 0..<Int(rng.next() % 6 + 2) {
                out.append(0x09)
                if rng.next() % 3 == 0 {
                    out.append(contentsOf: Array(String(rng.next() % 1_000_000).utf8))
                } else {
                    out.append(contentsOf: words[Int(rng.next() % UInt64(words.count))])
                }
            }
            out.append(0x0a)
        }
        return Array(out.prefix(count))
    }

    /// Incompressible bytes.
    static func random(bytes count: Int, seed: UInt64 = 7) -> [UInt8] {
        var rng = SplitMix64(seed: seed)
        var out = [UInt8]()
        out.reserveCapacity(count + 8)
        while out.count < count {
            let value = rng.next()
            for shift in stride(from: 0, to: 64, by: 8) { out.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
        }
        return Array(out.prefix(count))
    }
}

/// Runs a system tool with a file on stdin and returns its exit status and stdout (stderr is discarded).
enum ExternalTool {
    static func run(_ executable: String, _ arguments: [String], stdinFile: String? = nil) throws -> (status: Int32, stdout: [UInt8]) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        if let stdinFile {
            guard let input = FileHandle(forReadingAtPath: stdinFile) else { throw TestFailure("cannot open \(stdinFile)") }
            process.standardInput = input
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, [UInt8](data))
    }

    /// `gzip -dc FILE`.
    static func gunzip(_ compressed: [UInt8], in directory: TemporaryDirectory) throws -> (status: Int32, stdout: [UInt8]) {
        let path = try directory.write("input-\(UUID().uuidString).gz", compressed)
        return try run("/usr/bin/gzip", ["-dc", path])
    }

    /// Python's gzip module reading stdin.
    static func pythonGunzip(_ compressed: [UInt8], in directory: TemporaryDirectory) throws -> (status: Int32, stdout: [UInt8]) {
        let path = try directory.write("input-\(UUID().uuidString).gz", compressed)
        return try run(
            "/usr/bin/python3",
            ["-c", "import gzip,sys; sys.stdout.buffer.write(gzip.decompress(sys.stdin.buffer.read()))"],
            stdinFile: path)
    }

    /// `gzip -LEVEL -c FILE`.
    static func gzip(_ plain: [UInt8], level: Int, in directory: TemporaryDirectory) throws -> [UInt8] {
        let path = try directory.write("plain-\(UUID().uuidString)", plain)
        let result = try run("/usr/bin/gzip", ["-\(level)", "-c", path])
        guard result.status == 0 else { throw TestFailure("gzip exited with \(result.status)") }
        return result.stdout
    }
}

enum Gzip {
    /// gzip as ONE member, the way gzip(1) and the old tool write it (zlib's deflate, whole input at once), so the
    /// decoder is tested on more than the encoder's one-member-per-block output.
    static func compress(_ input: [UInt8], level: Int = 6) throws -> [UInt8] {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer { stream.deallocate() }
        guard deflateInit2_(stream, Int32(level), Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, zlibVersion(),
                            Int32(MemoryLayout<z_stream>.size)) == Z_OK else { throw TestFailure("deflateInit2 failed") }
        defer { deflateEnd(stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(stream, uLong(input.count))) + 64)
        var input = input
        let code = input.withUnsafeMutableBufferPointer { plain in
            output.withUnsafeMutableBufferPointer { out in
                stream.pointee.next_in = plain.baseAddress
                stream.pointee.avail_in = uInt(plain.count)
                stream.pointee.next_out = out.baseAddress
                stream.pointee.avail_out = uInt(out.count)
                return deflate(stream, Z_FINISH)
            }
        }
        guard code == Z_STREAM_END else { throw TestFailure("deflate returned \(code)") }
        return Array(output.prefix(Int(stream.pointee.total_out)))
    }

    /// Decodes with GzipDecoder, feeding `chunkSize` bytes per call.
    static func decompress(_ input: [UInt8], chunkSize: Int = 1 << 16) throws -> [UInt8] {
        let decoder = try GzipDecoder()
        var output = [UInt8]()
        var offset = 0
        let step = max(chunkSize, 1)
        while offset < input.count {
            let end = min(offset + step, input.count)
            try input.withUnsafeBytes { raw in
                try decoder.feed(UnsafeRawBufferPointer(rebasing: raw[offset..<end])) { output.append(contentsOf: $0) }
            }
            offset = end
        }
        try decoder.finish()
        return output
    }
}

extension String {
    var bytes: [UInt8] { Array(utf8) }
}

/// nil when equal; else a short description of where two byte arrays first differ (so a failure never
/// prints megabytes).
func byteDifference(_ actual: [UInt8], _ expected: [UInt8]) -> String? {
    if actual == expected { return nil }
    let common = zip(actual, expected).prefix { $0 == $1 }.count
    let context = { (bytes: [UInt8]) in
        String(decoding: bytes[common..<min(bytes.count, common + 60)], as: UTF8.self).debugDescription
    }
    return "sizes \(actual.count) vs \(expected.count), first difference at byte \(common): \(context(actual)) vs \(context(expected))"
}
