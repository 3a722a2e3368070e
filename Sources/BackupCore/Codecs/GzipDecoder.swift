import CZlib

/// A streaming gzip decoder that checks every member's CRC and length and accepts several members in a row
/// (pigz output or concatenated files). Anything after the last member that is not a gzip member is an error.
public final class GzipDecoder {
    private let stream: UnsafeMutablePointer<z_stream>
    private var output = [UInt8](repeating: 0, count: 256 * 1024)
    private var inMember = false
    private var sawMember = false

    public init() throws {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let code = inflateInit2_(stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard code == Z_OK else {
            stream.deallocate()
            throw GzipError.initFailed(code)
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
    }

    /// Decodes `input`, passing decoded bytes to `emit` as they come.
    public func feed(_ input: UnsafeRawBufferPointer, emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let base = input.baseAddress, input.count > 0 else { return }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(input.count)
        defer { stream.pointee.next_in = nil }
        var outputFull = false
        // Keep going while input remains, or while the last call filled the buffer (zlib may hold more output).
        while stream.pointee.avail_in > 0 || outputFull {
            if !inMember {
                if sawMember, stream.pointee.next_in.pointee != 0x1f { throw GzipError.trailingGarbage }
                guard inflateReset(stream) == Z_OK else { throw GzipError.initFailed(Z_STREAM_ERROR) }
                inMember = true
                sawMember = true
            }
            let (code, produced) = output.withUnsafeMutableBufferPointer { out -> (Int32, Int) in
                stream.pointee.next_out = out.baseAddress
                stream.pointee.avail_out = uInt(out.count)
                let code = inflate(stream, Z_NO_FLUSH)
                return (code, out.count - Int(stream.pointee.avail_out))
            }
            outputFull = produced == output.count
            if produced > 0 { try output.withUnsafeBytes { try emit(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) } }
            switch code {
            case Z_STREAM_END:
                inMember = false
                outputFull = false
            case Z_OK:
                continue
            case Z_BUF_ERROR:
                // No progress possible: zlib needs more input.
                if stream.pointee.avail_in == 0 { outputFull = false }
            default:
                let message = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(code)"
                throw GzipError.corrupt(message)
            }
        }
    }

    /// Call at end of input: fails if no member was seen or the last one is incomplete.
    public func finish() throws {
        guard sawMember, !inMember else { throw GzipError.truncated }
    }
}
