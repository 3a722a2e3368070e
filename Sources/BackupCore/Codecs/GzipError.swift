/// Failures of the gzip encoder and decoder.
public enum GzipError: Error, Equatable, Sendable, CustomStringConvertible {
    /// zlib refused to start (the code is zlib's return value).
    case initFailed(Int32)
    /// The compressed data is damaged (zlib's message).
    case corrupt(String)
    /// The data ended before the last gzip member was complete.
    case truncated
    /// Bytes after the last member that are not another gzip member.
    case trailingGarbage

    public var description: String {
        switch self {
        case let .initFailed(code): "zlib could not start (code \(code))"
        case let .corrupt(message): "gzip data is corrupt: \(message)"
        case .truncated: "gzip data ends early (the file is truncated)"
        case .trailingGarbage: "unexpected bytes after the end of the gzip data"
        }
    }
}
