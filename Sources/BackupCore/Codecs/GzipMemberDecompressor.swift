import CDeflate

/// One libdeflate decompressor, decoding one whole gzip member at a time (header, deflate data, CRC-32 and
/// length all checked by libdeflate). Used by exactly one worker thread after creation, hence unchecked.
final class GzipMemberDecompressor: @unchecked Sendable {
    private let decompressor: OpaquePointer

    init() throws {
        guard let decompressor = libdeflate_alloc_decompressor() else {
            throw CodecError.initFailed(.gzip, "libdeflate could not allocate a decompressor")
        }
        self.decompressor = decompressor
    }

    deinit { libdeflate_free_decompressor(decompressor) }

    /// The plain bytes of `member`, or nil unless `member` is exactly one gzip member, every byte of it used,
    /// that decodes to `size` bytes with the CRC-32 and length of its trailer. nil says nothing about why: the
    /// caller hands the bytes to zlib, whose streaming decoder then decodes them or says what is wrong.
    func decode(_ member: [UInt8], size: Int) -> [UInt8]? {
        var decoded = false
        let plain = [UInt8](unsafeUninitializedCapacity: max(size, 1)) { output, count in
            var used = 0
            var produced = 0
            let result = member.withUnsafeBytes { input in
                libdeflate_gzip_decompress_ex(decompressor, input.baseAddress, input.count,
                                              output.baseAddress, size, &used, &produced)
            }
            decoded = result == LIBDEFLATE_SUCCESS && used == member.count && produced == size
            count = decoded ? produced : 0
        }
        return decoded ? plain : nil
    }
}
