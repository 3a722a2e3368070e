import CZlib
import Foundation
import TestSupport
import Testing

@testable import BackupCore
import TestSupport

enum Gzip {
    /// gzip as ONE member, the way gzip(1) and the old tool write it (zlib's deflate, whole input at once), so the
    /// decoder is tested on more than the encoder's one-member-per-block output.
    static func compress(_ input: [UInt8], level: Int = 6) throws -> [UInt8] {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer { stream.deallocate() }
        guard deflateInit2_(stream, Int32(level), Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, zlibVersion(),
                            Int32(MemoryLayout<z_stream>.size)) == Z_OK else { throw HarnessError.setup("deflateInit2 failed") }
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
        guard code == Z_STREAM_END else { throw HarnessError.setup("deflate returned \(code)") }
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
