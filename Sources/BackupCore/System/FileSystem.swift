import CSystem
import Foundation

/// Small POSIX helpers. A failure is a `SystemError` naming the call and the path; what it means to the caller is
/// for the layer above to say. Paths are never followed through a symlink where a file is opened.
enum FileSystem {
    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// Creates `path` (and parents) with mode 0700 if missing, and tightens an existing one to 0700.
    static func makeDirectory(_ path: String) throws {
        var info = stat()
        if lstat(path, &info) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFDIR else {
                throw SystemError(.makeDirectory, path: path, problem: "exists and is not a directory")
            }
            if info.st_mode & 0o077 != 0, chmod(path, 0o700) != 0 { throw SystemError(.makeDirectory, path: path) }
            return
        }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty, parent != path, !exists(parent) { try makeDirectory(parent) }
        guard mkdir(path, 0o700) == 0 || errno == EEXIST else { throw SystemError(.makeDirectory, path: path) }
    }

    /// Opens an existing file for reading; returns the descriptor (the caller closes it) and the file's size.
    static func openForReading(_ path: String) throws -> (fd: Int32, size: Int64) {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw SystemError(.open, path: path) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            throw SystemError(.open, path: path, code: code)
        }
        return (fd, Int64(info.st_size))
    }

    /// Creates a new file (0600) for writing; fails if anything is already at `path`.
    static func createNew(_ path: String) throws -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw SystemError(.open, path: path) }
        return fd
    }

    static func sync(_ fd: Int32, path: String) throws {
        guard fsync(fd) == 0 else { throw SystemError(.sync, path: path) }
    }

    static func fsyncPath(_ path: String, directory: Bool) throws {
        let fd = open(path, (directory ? O_DIRECTORY : 0) | O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError(.sync, path: path) }
        defer { close(fd) }
        try sync(fd, path: path)
    }

    /// Starts the kernel writing `length` bytes from `offset` out to disk, without waiting (best effort).
    static func startWriteback(_ fd: Int32, offset: Int64, length: Int64) {
        _ = sync_file_range(fd, offset, length, UInt32(PGB_SYNC_FILE_RANGE_WRITE))
    }

    /// Renames `from` to `to`; a failure names `to`.
    static func rename(_ from: String, to: String) throws {
        guard Glibc.rename(from, to) == 0 else { throw SystemError(.rename, path: to) }
    }

    /// Removes a file; one that is already gone is not an error.
    static func remove(_ path: String) throws {
        guard unlink(path) == 0 || errno == ENOENT else { throw SystemError(.remove, path: path) }
    }

    /// Reads what is there, up to `buffer.count` bytes, retrying after a signal; 0 at end of file.
    static func readSome(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, path: String) throws -> Int {
        while true {
            let count = read(fd, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            if errno != EINTR { throw SystemError(.read, path: path) }
        }
    }

    /// Moves `fd`'s position to `offset` bytes from the start.
    static func seek(_ fd: Int32, to offset: Int64, path: String) throws {
        guard lseek(fd, off_t(offset), SEEK_SET) == off_t(offset) else { throw SystemError(.seek, path: path) }
    }

    static func writeAll(_ fd: Int32, _ data: UnsafeRawBufferPointer, path: String) throws {
        var offset = 0
        while offset < data.count {
            let written = Glibc.write(fd, data.baseAddress.map { $0 + offset }, data.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw SystemError(.write, path: path)
            }
            offset += written
        }
    }

    /// Opens a directory for reading; a symlink in its place is refused, never followed. Close with `closedir`.
    static func openDirectory(_ path: String) throws -> OpaquePointer {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError(.list, path: path) }
        guard let dir = fdopendir(fd) else {
            let code = errno
            close(fd)
            throw SystemError(.list, path: path, code: code)
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
