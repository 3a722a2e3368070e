import Foundation

/// The sidecar `<name>.json`: the old tool's fields plus what pgbackup adds. Its presence marks a backup complete.
public struct BackupMetadata: Sendable, Equatable {
    public var filename: String
    public var createdAt: Date
    public var database: String
    public var sizeBytes: Int64
    public var description: String
    public var compressed: Bool
    /// Hex SHA-256 of the stored file (.sql.gz or .sql.zst); nil for backups made by the old tool.
    public var sha256: String?
    public var uncompressedBytes: Int64?
    public var durationSeconds: Double?
    public var kind: BackupKind?
    public var pgDumpVersion: String?
    public var serverVersion: String?
    public var formatVersion: Int?
    /// `compression`: how the file is compressed; a sidecar without the field (the old tool's) means gzip.
    public var compression: Codec
    /// `tables`: the data rows of each table at backup time, by name as pg_dump quotes it, and the large objects
    /// (`TableRowCounter.largeObjectsKey`); nil for backups made before pgbackup counted them (or by the old tool).
    public var tables: [String: Int64]?
    /// `lockable_objects`: about how many lock-table entries restoring the dump in one transaction takes
    /// (`LockableObjectCounter`); nil for backups made before pgbackup counted them (or by the old tool).
    public var lockableObjects: Int64?
    /// `last_drill`: the newest restore drill of this backup; nil when it was never drilled.
    public var lastDrill: DrillRecord?
    /// `encrypted`: the file is encrypted with age (`"encryption": "age"`); absent or false for plain backups.
    public var encrypted = false
    /// `recipients`: the age public keys (`age1…`) an encrypted file was encrypted to; empty for plain backups.
    public var recipients: [String] = []

    public init(filename: String, createdAt: Date, database: String, sizeBytes: Int64, description: String,
                compressed: Bool = true, sha256: String? = nil, uncompressedBytes: Int64? = nil,
                durationSeconds: Double? = nil, kind: BackupKind? = nil, pgDumpVersion: String? = nil,
                serverVersion: String? = nil, formatVersion: Int? = nil, compression: Codec = .gzip,
                tables: [String: Int64]? = nil) {
        self.filename = filename
        self.createdAt = createdAt
        self.database = database
        self.sizeBytes = sizeBytes
        self.description = description
        self.compressed = compressed
        self.sha256 = sha256
        self.uncompressedBytes = uncompressedBytes
        self.durationSeconds = durationSeconds
        self.kind = kind
        self.pgDumpVersion = pgDumpVersion
        self.serverVersion = serverVersion
        self.formatVersion = formatVersion
        self.compression = compression
        self.tables = tables
    }

    /// Size in MiB rounded to two places, as the old tool shows it.
    public var sizeMB: Double { (Double(sizeBytes) / 1_048_576 * 100).rounded() / 100 }

    /// True when a checksum was recorded, so verify can prove the file unchanged.
    public var verified: Bool { sha256 != nil }

    /// Sidecar JSON: the old tool's eight fields first, in the old tool's order.
    public var json: JSON {
        var fields: [(String, JSON)] = [
            ("filename", .string(filename)),
            ("timestamp", .string(Timestamp.compact(createdAt))),
            ("created_at", .string(Timestamp.iso8601(createdAt))),
            ("database", .string(database)),
            ("size_bytes", .int(sizeBytes)),
            ("size_mb", .double(sizeMB)),
            ("description", .string(description)),
            ("compressed", .bool(compressed)),
        ]
        fields.append(("sha256", sha256.map(JSON.string) ?? .null))
        fields.append(("uncompressed_bytes", uncompressedBytes.map(JSON.int) ?? .null))
        fields.append(("duration_seconds", durationSeconds.map { .double(($0 * 1000).rounded() / 1000) } ?? .null))
        fields.append(("kind", kind.map { .string($0.rawValue) } ?? .null))
        fields.append(("pg_dump_version", pgDumpVersion.map(JSON.string) ?? .null))
        fields.append(("server_version", serverVersion.map(JSON.string) ?? .null))
        fields.append(("format_version", formatVersion.map { .int(Int64($0)) } ?? .null))
        fields.append(("compression", .string(compression.rawValue)))
        fields += encryptionFields
        if let lockableObjects { fields.append(("lockable_objects", .int(lockableObjects))) }
        return .object(fields + drillFields)
    }

    /// The object the API and `list --json` show: the sidecar plus `verified`.
    public var listingJSON: JSON {
        guard case var .object(fields) = json else { return json }
        fields.append(("verified", .bool(verified)))
        return .object(fields)
    }

    /// Reads a sidecar written by pgbackup or by the old tool.
    public static func parse(_ bytes: [UInt8]) throws -> BackupMetadata {
        let root: JSON
        do { root = try JSON.parse(bytes) } catch { throw SidecarError("not valid JSON (\(error))") }
        guard case .object = root else { throw SidecarError("not a JSON object") }
        func string(_ key: String) throws -> String {
            guard let value = root[key]?.stringValue else { throw SidecarError("field '\(key)' is missing or not a string") }
            return value
        }
        func optionalString(_ key: String) throws -> String? {
            guard let value = root[key], !value.isNull else { return nil }
            guard let text = value.stringValue else { throw SidecarError("field '\(key)' is not a string") }
            return text
        }
        func optionalInt(_ key: String) throws -> Int64? {
            guard let value = root[key], !value.isNull else { return nil }
            guard let number = value.int64Value, number >= 0 else { throw SidecarError("field '\(key)' is not a whole number") }
            return number
        }
        func optionalBool(_ key: String) throws -> Bool? {
            guard let value = root[key], !value.isNull else { return nil }
            guard let flag = value.boolValue else { throw SidecarError("field '\(key)' is not a boolean") }
            return flag
        }
        func optionalDouble(_ key: String) throws -> Double? {
            guard let value = root[key], !value.isNull else { return nil }
            guard let number = value.doubleValue, number >= 0 else { throw SidecarError("field '\(key)' is not a number") }
            return number
        }
        let created = try string("created_at")
        guard let createdAt = Timestamp.parse(created) else { throw SidecarError("field 'created_at' is not a date") }
        guard let size = try optionalInt("size_bytes") else { throw SidecarError("field 'size_bytes' is missing") }
        var kind: BackupKind?
        if let text = try optionalString("kind") {
            guard let parsed = BackupKind(rawValue: text) else { throw SidecarError("field 'kind' is unknown: \(text)") }
            kind = parsed
        }
        if let sha = try optionalString("sha256"),
           sha.count != 64 || !sha.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) || ("a"..."f").contains($0) }) {
            throw SidecarError("field 'sha256' is not a SHA-256 hex digest")
        }
        var metadata = BackupMetadata(
            filename: try string("filename"),
            createdAt: createdAt,
            database: try optionalString("database") ?? "",
            sizeBytes: size,
            description: try optionalString("description") ?? "",
            compressed: try optionalBool("compressed") ?? true,
            sha256: try optionalString("sha256"),
            uncompressedBytes: try optionalInt("uncompressed_bytes"),
            durationSeconds: try optionalDouble("duration_seconds"),
            kind: kind,
            pgDumpVersion: try optionalString("pg_dump_version"),
            serverVersion: try optionalString("server_version"),
            formatVersion: try optionalInt("format_version").map { Int($0) })
        metadata.compression = try parseCompression(root["compression"], filename: metadata.filename)
        try metadata.parseDrillFields(root)
        metadata.lockableObjects = try optionalInt("lockable_objects")
        (metadata.encrypted, metadata.recipients) = try parseEncryption(root, filename: metadata.filename)
        return metadata
    }

    /// The `compression` field: absent or null is gzip (the old tool wrote none); anything but a known codec, or a
    /// codec the file name's suffix contradicts, is damage.
    private static func parseCompression(_ value: JSON?, filename: String) throws -> Codec {
        var codec = Codec.gzip
        var shown = "missing (meaning gzip)"
        if let value, !value.isNull {
            guard let text = value.stringValue else { throw SidecarError("field 'compression' is not a string") }
            guard let named = Codec(rawValue: text) else {
                throw SidecarError("field 'compression' is '\(text)', expected gzip or zstd")
            }
            codec = named
            shown = "'\(text)'"
        }
        if let suffixed = BackupName.codec(of: filename), suffixed != codec {
            throw SidecarError("field 'compression' is \(shown) but the file name ends in \(suffixed.fileSuffix)")
        }
        return codec
    }
}
