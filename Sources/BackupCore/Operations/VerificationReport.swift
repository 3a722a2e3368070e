import Foundation

/// What verify found.
public struct VerificationReport: Sendable, Equatable {
    public var filename: String
    /// True when the SHA-256 recorded at creation was compared; false for backups made by the old tool.
    public var checksumChecked: Bool
    public var sha256: String
    public var uncompressedBytes: Int64
    /// The backup's codec, whose own check (gzip CRCs or zstd's frame checksum) was made.
    public var codec: Codec = .gzip

    public var json: JSON {
        var fields: [(String, JSON)] = [
            ("success", .bool(true)), ("verified", .bool(true)), ("filename", .string(filename)),
            ("checks", .array(((checksumChecked ? ["sha256"] : []) + [codecCheck, "dump_trailer"]).map(JSON.string))),
            ("sha256", .string(sha256)), ("uncompressed_bytes", .int(uncompressedBytes)),
        ]
        if !checksumChecked {
            fields.append(("note", .string("no checksum was recorded for this backup (made by an older tool); checked gzip CRCs and the dump trailer only")))
        }
        return .object(fields)
    }

    /// The name of the codec's check in `checks`.
    private var codecCheck: String { codec == .gzip ? "gzip_crc" : "zstd_checksum" }
}
