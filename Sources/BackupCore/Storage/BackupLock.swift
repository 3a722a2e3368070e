import CSystem
import Foundation

/// The one lock every mutating operation takes: an open-file-description write lock on `$BACKUP_DIR/.lock`,
/// never waiting. The kernel drops it when the holder exits however it exits, so a crash never leaves the
/// directory locked. The descriptor is close-on-exec, so pg_dump and psql never inherit it. Asking who holds it
/// (`F_OFD_GETLK`) takes nothing, so `status` polling can never make a real operation fail as busy.
public final class BackupLock: @unchecked Sendable {
    private let fd: Int32

    private init(fd: Int32) { self.fd = fd }

    deinit {
        ftruncate(fd, 0)
        // Unlock explicitly: a child being spawned on another thread briefly shares this open file description
        // (until its exec closes it), and a plain close would leave the lock held for that moment.
        var unlock = Self.request(F_UNLCK)
        _ = fcntl(fd, PGB_F_OFD_SETLK, &unlock)
        close(fd)
    }

    private static func request(_ type: Int32) -> flock {
        var lock = flock()
        lock.l_type = Int16(type)
        lock.l_whence = Int16(SEEK_SET)
        lock.l_start = 0
        lock.l_len = 0
        return lock
    }

    /// Takes the lock for `operation` or throws `operationInProgress` naming the holder.
    static func acquire(path: String, operation: String, now: Date) throws -> BackupLock {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw BackupError(SystemError(.open, path: path)) }
        var lock = request(F_WRLCK)
        guard fcntl(fd, PGB_F_OFD_SETLK, &lock) == 0 else {
            let code = errno
            close(fd)
            if code == EAGAIN || code == EACCES { throw BackupError.operationInProgress(holder(path: path)) }
            throw BackupError(SystemError(.open, path: path, code: code))
        }
        let holder = LockHolder(operation: operation, pid: getpid(), since: now)
        let text = Array(holder.json.serialized().utf8)
        ftruncate(fd, 0)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        return BackupLock(fd: fd)
    }

    /// The current holder, or nil when nobody holds the lock.
    static func holder(path: String) -> LockHolder? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var probe = request(F_WRLCK)
        guard fcntl(fd, PGB_F_OFD_GETLK, &probe) == 0, probe.l_type != Int16(F_UNLCK) else { return nil }
        // The holder writes its name just after taking the lock: a reader that comes in between gets an empty
        // file, so look again for a moment before calling the holder unknown.
        for attempt in 0..<40 {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
            if count > 0, let json = try? JSON.parse(Array(buffer[0..<count])),
               let operation = json["operation"]?.stringValue, let pid = json["pid"]?.int64Value,
               let since = json["since"]?.stringValue.flatMap(Timestamp.parse) {
                return LockHolder(operation: operation, pid: Int32(pid), since: since)
            }
            var again = request(F_WRLCK)
            guard fcntl(fd, PGB_F_OFD_GETLK, &again) == 0, again.l_type != Int16(F_UNLCK) else { return nil }
            if attempt < 39 { usleep(5_000) }
        }
        return LockHolder(operation: "unknown", pid: 0, since: Date(timeIntervalSince1970: 0))
    }
}
