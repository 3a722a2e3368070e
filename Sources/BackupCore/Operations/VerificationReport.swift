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
    /// The file is encrypted with age.
    public var encrypted = false
    /// False when an encrypted backup was checked without its identity: the stored bytes' sha256 and the age
    /// header only, not the content (then `uncompressedBytes` is the recorded size, not one found).
    public var contentChecked = true

    /// The checks made, as `checks` names them.
    public var checks: [String] {
        let stored = checksumChecked ? ["sha256"] : []
        if !contentChecked { return stored + ["age_header"] }
        return stored + (encrypted ? ["age"] : []) + [codecCheck, "dump_trailer"]
    }

    public var json: JSON {
        var fields: [(String, JSON)] = [
            ("success", .bool(true)), ("verified", .bool(true)), ("filename", .string(filename)),
            ("checks", .array(checks.map(JSON.string))),
            ("sha256", .string(sha256)), ("uncompressed_bytes", .int(uncompressedBytes)),
        ]
        if encrypted {
            fields.append(("encrypted", .bool(true)))
            fields.append(("content_checked", .bool(contentChecked)))
        }
        if !contentChecked {
            fields.append(("note", .string(Self.contentNotChecked)))
        } else if !checksumChecked {
            fields.append(("note", .string("no checksum was recorded for this backup (made by an older tool); checked gzip CRCs and the dump trailer only")))
        }
        return .object(fields)
    }

    /// What a verify without the identity says.
    public static let contentNotChecked = "the backup is encrypted and no identity was given: checked the SHA-256 of "
        + "the stored bytes and the age header only, the content was not checked (set BACKUP_AGE_IDENTITY_FILE or "
        + "pass --identity to check it)"

    /// The name of the codec's check in `checks`.
    private var codecCheck: String { codec == .gzip ? "gzip_crc" : "zstd_checksum" }
}
