import Foundation

/// The lock for a restore from a read-only backup directory (an archive mounted read-only), where `.lock`
/// cannot be created or written. It lives in a runtime directory instead — `/run/pgbackup` (the service's
/// `RuntimeDirectory=`, or root's), else `$XDG_RUNTIME_DIR/pgbackup` — under a name made of the backup
/// directory's device and inode, so every path to the same directory (a bind mount included) finds the same
/// lock. Only a restore without a safety backup runs this way: it writes nothing to the directory.
extension BackupStore {
    /// The runtime lock's path, or nil when no runtime directory can be had.
    func runtimeLockPath(create: Bool) -> String? {
        var info = stat()
        guard stat(directory, &info) == 0 else { return nil }
        var candidates = ["/run/pgbackup"]
        if let runtime = ProcessInfo.processInfo.environment["XDG_RUNTIME_DIR"], runtime.hasPrefix("/") {
            candidates.append("\(runtime)/pgbackup")
        }
        for candidate in candidates {
            if create { try? FileSystem.makeDirectory(candidate) }
            var dir = stat()
            guard lstat(candidate, &dir) == 0, (dir.st_mode & S_IFMT) == S_IFDIR else { continue }
            if create, faccessat(AT_FDCWD, candidate, W_OK | X_OK, AT_EACCESS) != 0 { continue }
            return "\(candidate)/backup-dir-\(info.st_dev)-\(info.st_ino).lock"
        }
        return nil
    }

    /// Takes the runtime lock for `operation`, or says why it cannot.
    func readOnlyLock(_ operation: String, now: Date) throws -> BackupLock {
        guard let path = runtimeLockPath(create: true) else {
            throw BackupError.io(path: directory, message: "read-only file system, and no runtime directory "
                + "(/run/pgbackup or $XDG_RUNTIME_DIR) can hold the lock in its place")
        }
        return try BackupLock.acquire(path: path, operation: operation, now: now)
    }

    /// Who holds the runtime lock of this directory, if anyone.
    var readOnlyLockHolder: LockHolder? {
        runtimeLockPath(create: false).flatMap { BackupLock.holder(path: $0) }
    }
}
