import CDeflate

/// One libdeflate compressor, turning a whole block into one complete gzip member (header, deflate data,
/// CRC-32 and length). Used by exactly one worker thread after creation, hence unchecked.
final class GzipMemberCompressor: @unchecked Sendable {
    private let compressor: OpaquePointer

    init(level: Int) throws {
        guard let compressor = libdeflate_alloc_compressor(Int32(level)) else {
            throw CodecError.initFailed(.gzip, "libdeflate could not allocate a level-\(level) compressor")
        }
        self.compressor = compressor
    }

    deinit { libdeflate_free_compressor(compressor) }

    func compress(_ input: [UInt8]) throws -> [UInt8] {
        let bound = libdeflate_gzip_compress_bound(compressor, input.count)
        return try [UInt8](unsafeUninitializedCapacity: bound) { output, count in
            count = input.withUnsafeBytes { plain in
                libdeflate_gzip_compress(compressor, plain.baseAddress, plain.count, output.baseAddress, output.count)
            }
            // libdeflate returns 0 only when the output does not fit, which the bound rules out.
            guard count > 0 else {
                throw CodecError.compressFailed(.gzip, "libdeflate output exceeded its own bound")
            }
        }
    }
}
