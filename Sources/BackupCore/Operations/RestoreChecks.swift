import Foundation

/// What a restore settles before it touches the target: which database it goes into, and whether the target
/// server can read what the dump's pg_dump wrote.
extension BackupManager {
    /// The database a backup was taken of: its sidecar's `database`, else the `<db>` part of its name (the old
    /// tool's sidecars may lack the field).
    public static func sourceDatabase(of metadata: BackupMetadata) -> String? {
        metadata.database.isEmpty ? BackupName.databasePart(metadata.filename) : metadata.database
    }

    /// The database a restore of `metadata` goes into: `explicit` when given, else POSTGRES_DB — but only when the
    /// backup is of POSTGRES_DB. Restoring one database's backup over another must be asked for by name, or undoing
    /// a staging restore with its safety backup could overwrite production.
    public func restoreTarget(for metadata: BackupMetadata, explicit: String?) throws -> String {
        if let explicit { return explicit }
        let target = configuration.postgres.database
        if Self.isBackup(metadata, ofAnotherDatabaseThan: target), let source = Self.sourceDatabase(of: metadata) {
            throw BackupError.targetNotNamed(backup: metadata.filename, backupDatabase: source, target: target)
        }
        return target
    }

    /// Whether the backup was taken of a database other than `target` (by the name's `<db>` part, file-safe, when
    /// the sidecar does not say).
    public static func isBackup(_ metadata: BackupMetadata, ofAnotherDatabaseThan target: String) -> Bool {
        guard let source = sourceDatabase(of: metadata) else { return false }
        return metadata.database.isEmpty ? source != BackupName.fileSafe(database: target) : source != target
    }

    /// Refuses a dump whose pg_dump is of a newer major version than the target server: its SQL can use settings
    /// and syntax the older server does not know, and would fail half-way (after the safety backup). The dump's
    /// own header decides; the sidecar's `pg_dump_version` only when the header has no version line.
    func checkDumpVersion(_ metadata: BackupMetadata, header: DumpHeader, target: String,
                          server: (text: String, number: Int)) throws {
        guard let dumpedBy = (header.dumpedBy ?? metadata.pgDumpVersion).flatMap(PostgresTools.parseToolVersion),
              dumpedBy.number / 10_000 > server.number / 10_000
        else { return }
        throw BackupError.dumpTooNew(backup: metadata.filename, pgDump: dumpedBy.text,
                                     dumpedFrom: header.dumpedFrom.flatMap(PostgresTools.parseToolVersion)?.text,
                                     target: target, server: server.text)
    }
}

extension BackupName {
    /// The `<db>` part of a valid name (`backup_<db>_<YYYYMMDD>_<HHMMSS>[_N].sql.gz`), read from the end as
    /// `isValid` does: with the collision counter first, then without.
    static func databasePart(_ name: String) -> String? {
        guard isValid(name) else { return nil }
        let middle = name.dropFirst("backup_".count).dropLast(suffix.count)
        var parts = middle.split(separator: "_", omittingEmptySubsequences: false)
        func isDigits(_ part: Substring, _ count: Int?) -> Bool {
            !part.isEmpty && part.allSatisfy(\.isASCII) && part.allSatisfy(\.isNumber) && (count == nil || part.count == count)
        }
        let n = parts.count
        if n >= 4, isDigits(parts[n - 1], nil), isDigits(parts[n - 2], 6), isDigits(parts[n - 3], 8) {
            parts.removeLast(3)
        } else {
            parts.removeLast(2)
        }
        return parts.joined(separator: "_")
    }
}

/// The versions pg_dump writes at the top of a plain dump:
/// `-- Dumped from database version 17.7 (…)` and `-- Dumped by pg_dump version 17.7 (…)`.
struct DumpHeader: Equatable {
    var dumpedFrom: String?
    var dumpedBy: String?

    /// The header lines lie within the first few hundred bytes; 64 KiB of decoded text is plenty.
    static let limit = 64 * 1024

    static func parse(_ text: String) -> DumpHeader {
        var header = DumpHeader()
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            // The first of each counts: the same words later on (in a function body, say) are data.
            if header.dumpedFrom == nil, let rest = line.afterPrefix("-- Dumped from database version ") {
                header.dumpedFrom = String(rest)
            }
            if header.dumpedBy == nil, let rest = line.afterPrefix("-- Dumped by pg_dump version ") {
                header.dumpedBy = String(rest)
            }
        }
        return header
    }

    /// Decodes the start of a gzip backup and reads its header; a file it cannot read gives an empty header (the
    /// verify pass that follows reports what is wrong with it).
    static func read(path: String) -> DumpHeader {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return DumpHeader() }
        defer { close(fd) }
        guard let decoder = try? GzipDecoder() else { return DumpHeader() }
        struct Enough: Error {}
        var text = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        reading: while text.count < limit {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            do {
                try buffer.withUnsafeBytes { raw in
                    try decoder.feed(UnsafeRawBufferPointer(rebasing: raw[0..<count])) { decoded in
                        text.append(contentsOf: decoded.prefix(limit - text.count))
                        if text.count >= limit { throw Enough() }
                    }
                }
            } catch {
                break reading
            }
        }
        return parse(String(decoding: text, as: UTF8.self))
    }
}

extension Substring {
    fileprivate func afterPrefix(_ prefix: String) -> Substring? {
        hasPrefix(prefix) ? dropFirst(prefix.count) : nil
    }
}
