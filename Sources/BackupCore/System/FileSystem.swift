import Foundation

/// Small POSIX helpers; every failure becomes `BackupError.io` naming the path.
enum FileSystem {
    static func fail(_ path: String, _ code: Int32 = errno) -> BackupError {
        .io(path: path, message: Errno.message(code))
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// Creates `path` (and parents) with mode 0700 if missing, and tightens an existing one to 0700.
    static func makeDirectory(_ path: String) throws {
        var info = stat()
        if lstat(path, &info) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFDIR else {
                throw BackupError.io(path: path, message: "exists and is not a directory")
            }
            if info.st_mode & 0o077 != 0, chmod(path, 0o700) != 0 { throw fail(path) }
            return
        }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty, parent != path, !exists(parent) { try makeDirectory(parent) }
        guard mkdir(path, 0o700) == 0 || errno == EEXIST else { throw fail(path) }
    }

    static func fsyncPath(_ path: String, directory: Bool) throws {
        let fd = open(path, (directory ? O_DIRECTORY : 0) | O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw fail(path) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw fail(path) }
    }

    static func writeAll(_ fd: Int32, _ data: UnsafeRawBufferPointer, path: String) throws {
        var offset = 0
        while offset < data.count {
            let written = Glibc.write(fd, data.baseAddress.map { $0 + offset }, data.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw fail(path)
            }
            offset += written
        }
    }

    /// Writes `bytes` to `path` atomically: temp file in `tempDirectory`, fsync, rename, fsync the directory.
    static func writeAtomically(_ bytes: [UInt8], to path: String, tempDirectory: String) throws {
        let temp = "\(tempDirectory)/\((path as NSString).lastPathComponent).\(getpid()).tmp"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw fail(temp) }
        do {
            try bytes.withUnsafeBytes { try writeAll(fd, $0, path: temp) }
            guard fsync(fd) == 0 else { throw fail(temp) }
            close(fd)
        } catch {
            close(fd)
            unlink(temp)
            throw error
        }
        guard rename(temp, path) == 0 else {
            let code = errno
            unlink(temp)
            throw fail(path, code)
        }
        try fsyncPath((path as NSString).deletingLastPathComponent, directory: true)
    }

    /// Overwrites a small existing file in place: no new inode, so it works on a full volume where
    /// `writeAtomically` cannot create its temp file. Not atomic; used only as that fallback.
    static func overwriteInPlace(_ bytes: [UInt8], at path: String) throws {
        let fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw fail(path) }
        defer { close(fd) }
        let written = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        guard written == bytes.count, ftruncate(fd, off_t(bytes.count)) == 0, fsync(fd) == 0 else { throw fail(path) }
    }

    /// Reads a small file (sidecars, state) without following a symlink; nil when absent.
    static func readSmallFile(_ path: String, limit: Int = 1 << 20) throws -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw fail(path)
        }
        defer { close(fd) }
        // Read straight into an array of the file's size (one copy, no regrowth); keep going in chunks only if
        // the file grew meanwhile. The listing cache serves ~0.5 MB this way on every list request.
        var info = stat()
        let expected = fstat(fd, &info) == 0 ? max(Int(info.st_size), 0) : 0
        if expected > limit { throw BackupError.io(path: path, message: "file is unexpectedly large") }
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
        if readError != 0 { throw fail(path, readError) }
        guard result.count > expected else { return result }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw fail(path)
            }
            if count == 0 { break }
            result.append(contentsOf: buffer[0..<count])
            if result.count > limit { throw BackupError.io(path: path, message: "file is unexpectedly large") }
        }
        return result
    }

    /// Opens a directory for reading; a symlink in its place is refused, never followed. Close with `closedir`.
    static func openDirectory(_ path: String) throws -> OpaquePointer {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw fail(path) }
        guard let dir = fdopendir(fd) else {
            let code = errno
            close(fd)
            throw fail(path, code)
        }
        return dir
    }

    /// Names in a directory (no `.`/`..`). A symlink in place of the directory is refused, never followed.
    static func list(_ path: String) throws -> [String] {
        let dir = try openDirectory(path)
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != ".", name != ".." { names.append(name) }
        }
        return names
    }

    /// Size of a regular file (not following symlinks); nil if it is missing or not a regular file.
    static func regularFileSize(_ path: String) -> Int64? {
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int64(info.st_size)
    }

    static func freeBytes(_ path: String) -> Int64? {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return nil }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }
}
