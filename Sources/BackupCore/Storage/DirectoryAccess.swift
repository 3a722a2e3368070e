import Foundation

/// Whether the backup directory can be written, asked without writing (status must not change the directory,
/// and on a read-only volume a test write would only fail the same way).
public enum DirectoryAccess {
    /// Why nothing can be written to `path`, or nil when it can (or does not exist yet: the first mutating
    /// operation creates it, and says so if it cannot).
    public static func writeProblem(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        var volume = statvfs()
        if statvfs(path, &volume) == 0, volume.f_flag & UInt(ST_RDONLY) != 0 {
            return "The backup directory \(path) is on a read-only file system"
        }
        if faccessat(AT_FDCWD, path, W_OK | X_OK, AT_EACCESS) != 0 {
            let code = errno
            return "The backup directory \(path) is not writable by uid \(geteuid()) (\(Errno.message(code)))"
        }
        return nil
    }

    /// True when `path` is on a file system mounted read-only.
    static func isReadOnlyVolume(_ path: String) -> Bool {
        var volume = statvfs()
        return statvfs(path, &volume) == 0 && volume.f_flag & UInt(ST_RDONLY) != 0
    }
}
