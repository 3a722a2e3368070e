/// The compression of a backup file, chosen by this one enum: an operation asks it for the file suffix, the
/// download's content type, the level range, and the stages that encode and decode.
public enum Codec: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Standard gzip: written by libdeflate in parallel members, read back by libdeflate in parallel where the file is
    /// made of such members and by zlib otherwise (every gzip file reads).
    case gzip
    /// zstd frames with their content checksum, compressed multithreaded by libzstd.
    case zstd

    /// What a backup file's name ends with.
    public var fileSuffix: String {
        switch self {
        case .gzip: ".sql.gz"
        case .zstd: ".sql.zst"
        }
    }

    /// The `Content-Type` of a download.
    public var contentType: String {
        switch self {
        case .gzip: "application/gzip"
        case .zstd: "application/zstd"
        }
    }

    /// The levels `BACKUP_COMPRESSION_LEVEL` may take.
    public var levels: ClosedRange<Int> {
        switch self {
        case .gzip: 1...9
        case .zstd: 1...19
        }
    }

    /// The level used when none is configured (gzip's own default; zstd's CLI default).
    public var defaultLevel: Int {
        switch self {
        case .gzip: 6
        case .zstd: 3
        }
    }

    /// The codec's own integrity check, as `verify` names it.
    public var integrityCheck: String {
        switch self {
        case .gzip: "gzip CRC"
        case .zstd: "zstd frame checksum"
        }
    }

    public var description: String { rawValue }

    /// A stage that compresses what it is handed at `level` (one of `levels`, else `CodecError.levelOutOfRange`)
    /// and writes the result to `next`.
    /// - Parameter niceIncrement: added to the compression threads' nice value (see `WorkerPriority`).
    func encoder(level: Int, niceIncrement: Int32 = 0, next: ByteStage) throws -> ByteStage {
        switch self {
        case .gzip: return try GzipEncodeStage(level: level, niceIncrement: niceIncrement, next: next)
        case .zstd: return try ZstdEncodeStage(level: level, niceIncrement: niceIncrement, next: next)
        }
    }

    /// A stage that decodes what it is handed, checking every checksum, and writes the plain bytes to `next`.
    func decoder(next: ByteStage) throws -> ByteStage {
        switch self {
        case .gzip: GzipParallelDecodeStage(next: next)
        case .zstd: try ZstdDecodeStage(next: next)
        }
    }
}
