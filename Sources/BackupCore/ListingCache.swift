import Foundation

/// What `status` needs from a listing, small enough to keep beside the cached list body.
public struct ListingSummary: Sendable, Equatable {
    public struct Last: Sendable, Equatable {
        public var filename: String
        public var createdAt: Date
        public var kind: BackupKind?
    }

    public var count: Int
    public var totalSizeBytes: Int64
    public var last: Last?
    public var orphans: [String]
    public var damaged: [String: String]

    init(_ listing: BackupStore.Listing) {
        count = listing.backups.count
        totalSizeBytes = listing.backups.reduce(0) { $0 + $1.sizeBytes }
        last = listing.backups.first.map { Last(filename: $0.filename, createdAt: $0.createdAt, kind: $0.kind) }
        orphans = listing.orphans
        damaged = Dictionary(listing.damaged.map { ($0.filename, $0.error) }, uniquingKeysWith: { first, _ in first })
    }

    var json: JSON {
        .object([
            ("count", .int(Int64(count))), ("total_size_bytes", .int(totalSizeBytes)),
            ("last", last.map { .object([("filename", .string($0.filename)), ("created_at", .string(Timestamp.iso8601($0.createdAt))),
                                         ("kind", $0.kind.map { .string($0.rawValue) } ?? .null)]) } ?? .null),
            ("orphans", .array(orphans.map(JSON.string))),
            ("damaged", .object(damaged.sorted { $0.key < $1.key }.map { ($0.key, JSON.string($0.value)) })),
        ])
    }

    init?(json: JSON) {
        guard let count = json["count"]?.int64Value, let total = json["total_size_bytes"]?.int64Value,
              case let .array(orphans)? = json["orphans"], case let .object(damaged)? = json["damaged"]
        else { return nil }
        self.count = Int(count)
        totalSizeBytes = total
        if let last = json["last"], !last.isNull {
            guard let filename = last["filename"]?.stringValue,
                  let created = last["created_at"]?.stringValue.flatMap(Timestamp.parse) else { return nil }
            self.last = Last(filename: filename, createdAt: created,
                             kind: last["kind"]?.stringValue.flatMap(BackupKind.init(rawValue:)))
        }
        self.orphans = orphans.compactMap(\.stringValue)
        self.damaged = Dictionary(damaged.compactMap { key, value in value.stringValue.map { (key, $0) } },
                                  uniquingKeysWith: { first, _ in first })
    }
}

/// The API's list body and status summary, cached in `$BACKUP_DIR/.cache/` under a fingerprint of the
/// directory (every entry's name, and each sidecar's inode, size and mtime — the sidecars are where listings
/// come from; a dump only has to exist): any backup added or removed, and any sidecar changed, by pgbackup or
/// by hand, changes the fingerprint, so a stale answer is never served. Without it, every list/status request
/// re-reads and re-parses every sidecar. Nothing is kept in memory; any process may (re)write the cache.
struct ListingCache {
    let store: BackupStore

    private var directory: String { "\(store.directory)/.cache" }

    /// The compact JSON array `GET /api/backups` answers, newest first.
    func listBody() throws -> [UInt8] {
        try cached(kind: "list") { listing in Array(JSON.array(listing.entries.map(\.json)).serialized().utf8) }
    }

    func summary() throws -> ListingSummary {
        let bytes = try cached(kind: "summary") { listing in Array(ListingSummary(listing).json.serialized().utf8) }
        if let json = try? JSON.parse(bytes), let summary = ListingSummary(json: json) { return summary }
        return ListingSummary(try store.listing())
    }

    private func cached(kind: String, render: (BackupStore.Listing) throws -> [UInt8]) throws -> [UInt8] {
        guard let before = fingerprint() else { return try render(store.listing()) }
        let path = "\(directory)/\(kind)-\(before).json"
        if let bytes = try? FileSystem.readSmallFile(path, limit: 256 << 20) { return bytes }
        let bytes = try render(store.listing())
        // Only keep what was rendered from an unchanged directory.
        if fingerprint() == before, (try? FileSystem.makeDirectory(directory)) != nil {
            try? FileSystem.writeAtomically(bytes, to: path, tempDirectory: directory)
            for name in (try? FileSystem.list(directory)) ?? [] where name.hasPrefix("\(kind)-") && name != "\(kind)-\(before).json" {
                unlink("\(directory)/\(name)")
            }
        }
        return bytes
    }

    /// FNV-1a over each entry, summed so directory order does not matter; nil when the directory is unreadable.
    func fingerprint() -> String? {
        guard let dir = try? FileSystem.openDirectory(store.directory) else { return nil }
        defer { closedir(dir) }
        var total: UInt64 = 0
        var count: UInt64 = 0
        while let entry = readdir(dir) {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            func mix(_ byte: UInt8) {
                hash ^= UInt64(byte)
                hash = hash &* 0x100_0000_01b3
            }
            func mix64(_ value: UInt64) { for shift in stride(from: 0, to: 64, by: 8) { mix(UInt8(truncatingIfNeeded: value >> UInt64(shift))) } }
            var length = 0
            let skip = withUnsafeBytes(of: entry.pointee.d_name) { raw -> Bool in
                guard raw.first != UInt8(ascii: ".") else { return true }
                for byte in raw {
                    if byte == 0 { break }
                    mix(byte)
                    length += 1
                }
                return false
            }
            if skip { continue }
            count += 1
            let isSidecar = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                length > 5 && raw[length - 5] == UInt8(ascii: ".") && raw[length - 4] == UInt8(ascii: "j")
                    && raw[length - 3] == UInt8(ascii: "s") && raw[length - 2] == UInt8(ascii: "o")
                    && raw[length - 1] == UInt8(ascii: "n")
            }
            guard isSidecar else {
                total = total &+ hash
                continue
            }
            var info = stat()
            let statted = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                fstatat(dirfd(dir), raw.baseAddress!.assumingMemoryBound(to: CChar.self), &info, AT_SYMLINK_NOFOLLOW)
            }
            guard statted == 0 else { return nil }
            mix64(UInt64(info.st_ino))
            mix64(UInt64(bitPattern: Int64(info.st_size)))
            mix64(UInt64(bitPattern: Int64(info.st_mtim.tv_sec)))
            mix64(UInt64(bitPattern: Int64(info.st_mtim.tv_nsec)))
            mix64(UInt64(info.st_mode))
            total = total &+ hash
        }
        return String(total, radix: 16) + "-" + String(count)
    }
}
