import Foundation

/// The API's list body and status summary, cached in `$BACKUP_DIR/.cache/` under a key that changes whenever the
/// listing can: nothing is kept in memory and any process may (re)write the cache.
///
/// The key is normally the backup directory's own identity and change times (one `fstat`): every backup added,
/// removed or renamed into place — which is how pgbackup writes sidecars — changes the directory's mtime. A
/// timestamp only moves when the clock has ticked, so while the last change is younger than `settleMargin` a
/// second change could leave the same mtime; then, and when the directory cannot be statted, the key is a
/// fingerprint of every entry's name and each sidecar's inode, size, mtime and mode (one `readdir` and an
/// `fstatat` per sidecar: about 4 ms with 1,000 backups, against 0.1 ms). A sidecar changed without a rename
/// (written in place, or filled in after it was created) does not move the directory's mtime: directory keys
/// also carry the minute, and each new minute's entry is only copied from the fingerprint's while that matches,
/// so such a change shows within a minute. Rebuilds are serialised by a lock file, so a burst of requests after
/// a change renders the listing once.
struct ListingCache {
    let store: BackupStore
    /// Off-site copies are on: the list merges the local index of the remote (`.remote.json`, renamed into the
    /// directory whenever it changes, so it moves the key like a backup does).
    var offsite = false
    var now: @Sendable () -> timespec = {
        var value = timespec()
        clock_gettime(CLOCK_REALTIME, &value)
        return value
    }

    /// How old the directory's last change must be before its stat alone identifies the listing: well above the
    /// kernel's timestamp tick (1–10 ms). Whole-second mtime and ctime suggest a coarse file system: 2 s there.
    static let settleMargin: Int64 = 50_000_000
    static let coarseSettleMargin: Int64 = 2_000_000_000
    /// How often a directory-keyed entry is checked against the fingerprint (which sees sidecar contents change).
    static let revalidateSeconds: Int64 = 60
    /// Part of every key, so entries rendered by an older pgbackup are not served after an upgrade (the directory
    /// itself has not changed). Bump it whenever the list's or the summary's JSON changes shape.
    /// 2: the sidecar's `compression` field. (With off-site copies on, the list is cached under kinds of its own.)
    static let renderVersion: UInt64 = 2

    private var directory: String { "\(store.directory)/.cache" }

    /// The compact JSON array `GET /api/backups` answers, newest first.
    func listBody() throws -> [UInt8] {
        try cached(kind: offsite ? "listremote" : "list") {
            var listing = try store.listing()
            if offsite { listing.remote = RemoteState.load(store) }
            return Array(listing.json.serialized().utf8)
        }
    }

    /// `listBody()` and a newline, gzip-compressed (level 6), for clients that send `Accept-Encoding: gzip`.
    func listBodyGzip() throws -> [UInt8] {
        try cached(kind: offsite ? "listremotegz" : "listgz") {
            // One worker: the body is small, and a request should not start a thread per core.
            let compressed = MemorySink()
            let encoder = try GzipEncodeStage(level: 6, workers: 1, next: compressed)
            try (try listBody() + [0x0a]).withUnsafeBytes { try encoder.write($0) }
            try encoder.finish()
            return compressed.bytes
        }
    }

    func summary() throws -> ListingSummary {
        let bytes = try cached(kind: "summary") { Array(ListingSummary(try store.listing()).json.serialized().utf8) }
        if let json = try? JSON.parse(bytes), let summary = ListingSummary(json: json) { return summary }
        return ListingSummary(try store.listing())
    }

    /// The current key, or nil when there is none (the directory is unreadable).
    func key() -> String? { directoryKey() ?? fingerprint().map { "f\($0)" } }

    private func entry(_ kind: String, _ key: String) -> String { "\(directory)/\(kind)-\(key).json" }

    private func read(_ path: String) -> [UInt8]? { try? FileSystem.readSmallFile(path, limit: 256 << 20) }

    func cached(kind: String, render: () throws -> [UInt8]) throws -> [UInt8] {
        // Never create a missing backup directory just to answer a read. The cache directory comes before the
        // key: creating it changes the backup directory.
        var info = stat()
        guard lstat(store.directory, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR,
              (try? FileSystem.makeDirectory(directory)) != nil, let first = key()
        else { return try render() }
        if let bytes = read(entry(kind, first)) { return bytes }

        // One renderer at a time; the others wait, then find its entry.
        let lockFD = open("\(directory)/\(kind).lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        defer { if lockFD >= 0 { close(lockFD) } }
        if lockFD >= 0 { while flock(lockFD, LOCK_EX) != 0 && errno == EINTR {} }
        // The wait may have crossed the settling margin or a change: take the key again.
        guard let current = key() else { return try render() }
        if let bytes = read(entry(kind, current)) { return bytes }

        // Every entry is also kept under the fingerprint it was rendered from. A directory key's entry is copied
        // from it while the fingerprint still matches: just after a change (the key turns from fingerprint to
        // directory key within 50 ms) and every minute (directory keys carry the minute, so sidecar changes
        // the directory's mtime does not show — a sidecar written in place, or filled in after it was created —
        // are picked up within a minute).
        guard let print = fingerprint() else { return try render() }
        let printKey = "f\(print)"
        let reused = read(entry(kind, printKey))
        let bytes = try reused ?? render()
        // Keep only what matches a directory that did not change meanwhile.
        guard fingerprint() == print else { return bytes }
        if reused == nil { try? FileSystem.writeAtomically(bytes, to: entry(kind, printKey), tempDirectory: directory) }
        var keep = ["\(kind)-\(printKey).json"]
        if current.hasPrefix("d"), key() == current {
            try? FileSystem.writeAtomically(bytes, to: entry(kind, current), tempDirectory: directory)
            keep.append("\(kind)-\(current).json")
        }
        for name in (try? FileSystem.list(directory)) ?? []
        where name.hasPrefix("\(kind)-") && name.hasSuffix(".json") && !keep.contains(name) {
            unlink("\(directory)/\(name)")
        }
        return bytes
    }

    /// "d" + the directory's device, inode, link count, mtime and ctime, once its last change has settled, the
    /// current minute (so each entry is checked against the fingerprint once a minute) and `renderVersion`.
    func directoryKey() -> String? {
        let fd = open(store.directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { return nil }
        let current = now()
        guard ListingCache.hasSettled(mtime: info.st_mtim, ctime: info.st_ctim, now: current) else { return nil }
        return "d" + [UInt64(info.st_dev), UInt64(info.st_ino), UInt64(info.st_nlink),
                      UInt64(bitPattern: ListingCache.nanoseconds(info.st_mtim)),
                      UInt64(bitPattern: ListingCache.nanoseconds(info.st_ctim)),
                      UInt64(bitPattern: Int64(current.tv_sec) / ListingCache.revalidateSeconds),
                      ListingCache.renderVersion]
            .map { String($0, radix: 16) }.joined(separator: ".")
    }

    /// Whether a directory last changed at `mtime`/`ctime` can change again without moving them: not once `now`
    /// is past the margin. Both times in whole seconds suggest a coarse file system, which gets the 2 s margin.
    static func hasSettled(mtime: timespec, ctime: timespec, now: timespec) -> Bool {
        let changed = max(nanoseconds(mtime), nanoseconds(ctime))
        let margin = mtime.tv_nsec == 0 && ctime.tv_nsec == 0 ? coarseSettleMargin : settleMargin
        return nanoseconds(now) - changed >= margin
    }

    private static func nanoseconds(_ time: timespec) -> Int64 {
        Int64(time.tv_sec) &* 1_000_000_000 &+ Int64(time.tv_nsec)
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
        return String(total, radix: 16) + "-" + String(count) + "-" + String(ListingCache.renderVersion)
            + (offsite ? "-r" + String(remoteIndexHash(), radix: 16) : "")
    }

    /// With off-site copies on, the list also depends on the local index of the remote, a dot file the fingerprint
    /// skips like every other: its inode (new at every atomic rewrite), size and mtime; 0 while there is none.
    private func remoteIndexHash() -> UInt64 {
        var info = stat()
        guard lstat(store.remoteStatePath, &info) == 0 else { return 0 }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for value in [UInt64(info.st_ino), UInt64(bitPattern: Int64(info.st_size)),
                      UInt64(bitPattern: Int64(info.st_mtim.tv_sec)), UInt64(bitPattern: Int64(info.st_mtim.tv_nsec))] {
            for shift in stride(from: 0, to: 64, by: 8) {
                hash ^= (value >> UInt64(shift)) & 0xff
                hash = hash &* 0x100_0000_01b3
            }
        }
        return hash
    }
}
