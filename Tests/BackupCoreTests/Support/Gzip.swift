import Foundation
import Testing

@testable import BackupCore

enum Gzip {
    /// Compresses with ParallelGzipWriter, handing it `writeSize` bytes per call (all at once when nil).
    static func compress(_ input: [UInt8], level: Int = 6, workers: Int = 2, blockSize: Int = 1 << 20,
                         writeSize: Int? = nil) throws -> [UInt8] {
        var output = [UInt8]()
        let writer = try ParallelGzipWriter(level: level, workers: workers, blockSize: blockSize) { chunk in
            output.append(contentsOf: chunk)
        }
        let step = max(writeSize ?? input.count, 1)
        var offset = 0
        while offset < input.count {
            let end = min(offset + step, input.count)
            try input.withUnsafeBytes { try writer.write(UnsafeRawBufferPointer(rebasing: $0[offset..<end])) }
            offset = end
        }
        try writer.finish()
        #expect(writer.uncompressedBytes == Int64(input.count))
        #expect(writer.compressedBytes == Int64(output.count))
        return output
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
