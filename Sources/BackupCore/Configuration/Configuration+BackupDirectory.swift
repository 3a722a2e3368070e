import Foundation

extension Configuration {
    /// Resolves `BACKUP_DIR` once, at start-up: it is the administrator's own setting, and pointing it at a bigger
    /// disk through a symlink is common. From then on every path is built on the resolved directory, and links
    /// found *inside* it are still never followed. A missing directory is left as configured (the first mutating
    /// operation creates it); one that exists but is not a directory, or a link that leads nowhere, is a bad
    /// setting.
    static func resolveBackupDirectory(_ path: String) throws -> String {
        var info = stat()
        guard lstat(path, &info) == 0 else { return path }
        guard let resolved = realpath(path, nil) else {
            throw BackupError.invalidConfiguration(variable: "BACKUP_DIR", value: path,
                                                   reason: "cannot be resolved (\(Errno.message(errno)))")
        }
        defer { free(resolved) }
        let target = String(cString: resolved)
        guard stat(target, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw BackupError.invalidConfiguration(
                variable: "BACKUP_DIR", value: path,
                reason: target == path ? "exists and is not a directory" : "leads to \(target), which is not a directory")
        }
        return target
    }
}
