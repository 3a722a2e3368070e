import CZlib
import Foundation

/// One raw-deflate z_stream. It never moves (zlib keeps a pointer back to it), so it lives in allocated memory.
/// Used by exactly one worker thread after creation, hence unchecked.
final class DeflateStream: @unchecked Sendable {
    private let stream: UnsafeMutablePointer<z_stream>

    init(level: Int32) throws {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let code = deflateInit2_(stream, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, zlibVersion(),
                                 Int32(MemoryLayout<z_stream>.size))
        guard code == Z_OK else {
            stream.deallocate()
            throw GzipError.initFailed(code)
        }
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
    }

    func compress(_ job: DeflateJob) throws -> DeflateResult {
        guard deflateReset(stream) == Z_OK else { throw GzipError.initFailed(Z_STREAM_ERROR) }
        if !job.dictionary.isEmpty {
            let code = job.dictionary.withUnsafeBufferPointer {
                deflateSetDictionary(stream, $0.baseAddress, uInt($0.count))
            }
            guard code == Z_OK else { throw GzipError.initFailed(code) }
        }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(stream, uLong(job.input.count))) + 64)
        var produced = 0
        let flush = job.last ? Z_FINISH : Z_SYNC_FLUSH
        let crc: UInt = job.input.withUnsafeBufferPointer { input in
            crc32(0, input.baseAddress, uInt(input.count))
        }
        try job.input.withUnsafeBufferPointer { input in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
            stream.pointee.avail_in = uInt(input.count)
            while true {
                if produced == output.count { output.append(contentsOf: [UInt8](repeating: 0, count: 64 * 1024)) }
                let code: Int32 = output.withUnsafeMutableBufferPointer { out in
                    stream.pointee.next_out = out.baseAddress.map { $0 + produced }
                    stream.pointee.avail_out = uInt(out.count - produced)
                    let code = deflate(stream, flush)
                    produced = out.count - Int(stream.pointee.avail_out)
                    return code
                }
                if job.last {
                    if code == Z_STREAM_END { break }
                    guard code == Z_OK || code == Z_BUF_ERROR else { throw GzipError.corrupt("deflate failed (\(code))") }
                } else {
                    guard code == Z_OK || code == Z_BUF_ERROR else { throw GzipError.corrupt("deflate failed (\(code))") }
                    if stream.pointee.avail_in == 0 && stream.pointee.avail_out > 0 { break }
                }
            }
        }
        stream.pointee.next_in = nil
        stream.pointee.next_out = nil
        output.removeSubrange(produced...)
        return DeflateResult(output: output, crc: crc, inputCount: job.input.count)
    }
}
