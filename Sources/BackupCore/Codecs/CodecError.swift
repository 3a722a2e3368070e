/// Failures of the libdeflate and libzstd stages. (The zlib decoder keeps its own `GzipError`, which
/// `GzipDecodeStage` passes on unchanged.)
public enum CodecError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A compression level outside the codec's range.
    case levelOutOfRange(Codec, Int)
    /// The library could not set up a compressor or decompressor (its message).
    case initFailed(Codec, String)
    /// The library failed while compressing (its message).
    case compressFailed(Codec, String)
    /// The compressed data is damaged (the library's message).
    case corrupt(Codec, String)
    /// The data decoded, but does not match the checksum stored with it.
    case checksumMismatch(Codec)
    /// The data ended before the last frame or member was complete.
    case truncated(Codec)
    /// Bytes after the last frame or member that are not another one.
    case trailingGarbage(Codec)

    public var description: String {
        switch self {
        case let .levelOutOfRange(codec, level):
            "\(codec) level \(level) is out of range (\(codec.levels.lowerBound)–\(codec.levels.upperBound))"
        case let .initFailed(codec, message): "\(codec) could not start: \(message)"
        case let .compressFailed(codec, message): "\(codec) compression failed: \(message)"
        case let .corrupt(codec, message): "\(codec) data is corrupt: \(message)"
        case let .checksumMismatch(codec): "\(codec) checksum does not match the data (the file is damaged)"
        case let .truncated(codec): "\(codec) data ends early (the file is truncated)"
        case let .trailingGarbage(codec): "unexpected bytes after the end of the \(codec) data"
        }
    }
}
