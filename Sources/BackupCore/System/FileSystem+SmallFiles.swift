import Foundation

/// Small files kept beside the backups (sidecars, state, jobs, cache entries): read whole, written atomically.
extension FileSystem {
    /// Reads a small file (sidecars, state) without following a symlink; nil when absent.
    static func readSmallFile(_ path: String, limit: Int = 1 << 20) throws -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw SystemError(.open, path: path)
        }
        defer { close(fd) }
        // Read straight into an array of the file's size (one copy, no regrowth); keep going in chunks only if
        // the file grew meanwhile. The listing cache serves ~0.5 MB this way on every list request.
        var info = stat()
        let expected = fstat(fd, &info) == 0 ? max(Int(info.st_size), 0) : 0
        if expected > limit { throw SystemError(.read, path: path, problem: "file is unexpectedly large") }
        var readError: Int32 = 0
        var result = [UInt8](unsafeUninitializedCapacity: expected + 1) { buffer, count in
            count = 0
            while count < buffer.count {
                let got = read(fd, buffer.baseAddress! + count, buffer.count - count)
                if got < 0 {
                    if errno == EINTR { continue }
                    readError = errno
                    return
                }
                if got == 0 { return }
                count += got
            }
        }
        if readError != 0 { throw SystemError(.read, path: path, code: readError) }
        guard result.count > expected else { return result }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = try buffer.withUnsafeMutableBytes { try readSome(fd, into: $0, path: path) }
            if count == 0 { break }
            result.append(contentsOf: buffer[0..<count])
            if result.count > limit { throw SystemError(.read, path: path, problem: "file is unexpectedly large") }
        }
        return result
    }

    /// Writes `bytes` to `path` atomically: temp file in `tempDirectory`, fsync, rename, fsync the directory.
    static func writeAtomically(_ bytes: [UInt8], to path: String, tempDirectory: String, mode: mode_t = 0o600) throws {
        let temp = "\(tempDirectory)/\((path as NSString).lastPathComponent).\(getpid()).tmp"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode)
        guard fd >= 0 else { throw SystemError(.open, path: temp) }
        do {
            // The umask may have taken bits off a wider mode (a metrics file must be world-readable).
            if mode != 0o600 { fchmod(fd, mode) }
            try bytes.withUnsafeBytes { try writeAll(fd, $0, path: temp) }
            try sync(fd, path: temp)
            close(fd)
        } catch {
            close(fd)
            unlink(temp)
            throw error
        }
        guard Glibc.rename(temp, path) == 0 else {
            let code = errno
            unlink(temp)
            throw SystemError(.rename, path: path, code: code)
        }
        try fsyncPath((path as NSString).deletingLastPathComponent, directory: true)
    }

    /// Overwrites a small existing file in place: no new inode, so it works on a full volume where
    /// `writeAtomically` cannot create its temp file. Not atomic; used only as that fallback.
    static func overwriteInPlace(_ bytes: [UInt8], at path: String) throws {
        let fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw SystemError(.open, path: path) }
        defer { close(fd) }
        let written = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        guard written == bytes.count, ftruncate(fd, off_t(bytes.count)) == 0, fsync(fd) == 0 else {
            throw SystemError(.write, path: path)
        }
    }
}
