import Glibc

/// A listening descriptor plus what is needed to clean up after it.
struct ListeningSocket: Sendable {
    /// A socket file we created: removed when we stop, but only while it is still ours (same inode).
    struct OwnedPath: Sendable {
        let path: String
        let device: UInt64
        let inode: UInt64
    }

    let fd: Int32
    let ownedPath: OwnedPath?
    let description: String

    /// Removes the socket file if it is still the one we bound, so nothing new can connect.
    func unlinkOwnedPath() {
        guard let owned = ownedPath else { return }
        var info = stat()
        guard lstat(owned.path, &info) == 0, (info.st_mode & S_IFMT) == S_IFSOCK,
            UInt64(info.st_dev) == owned.device, UInt64(info.st_ino) == owned.inode
        else { return }
        unlink(owned.path)
    }

    func close() {
        unlinkOwnedPath()
        _ = Glibc.close(fd)
    }
}

/// Creates the unix socket ourselves instead of calling `FCGX_OpenSocket`, which unlinks whatever is at
/// the path (stealing a running instance's socket) and calls `exit()` when bind fails.
enum UnixSocketBinder {
    /// `sun_path` is 108 bytes on Linux, one of which is the terminating NUL.
    static let maximumPathBytes = 107

    static func validate(path: String) throws -> String {
        guard !path.isEmpty else { throw FastCGIError.socketPathEmpty }
        let bytes = path.utf8.count
        guard bytes <= maximumPathBytes else { throw FastCGIError.socketPathTooLong(path: path, bytes: bytes) }
        let directory = directoryName(of: path)
        var info = stat()
        guard stat(directory, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw FastCGIError.socketDirectoryMissing(directory: directory)
        }
        return directory
    }

    static func directoryName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let directory = String(path[..<slash])
        return directory.isEmpty ? "/" : directory
    }

    static func bind(path: String, mode: mode_t, group: String?, backlog: Int32) throws -> ListeningSocket {
        _ = try validate(path: path)
        let groupID = try group.map(resolveGroup)
        try removeStaleSocket(at: path)

        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw FastCGIError.socketSetupFailed(operation: "socket()", path: path, errno: errno) }
        do {
            let bound = withSocketAddress(path) { address, length in Glibc.bind(fd, address, length) }
            if bound != 0 {
                let code = errno
                // Someone bound the path between our check and our bind: theirs now, not ours to take.
                if code == EADDRINUSE { throw FastCGIError.socketInUse(path: path) }
                throw FastCGIError.socketSetupFailed(operation: "bind()", path: path, errno: code)
            }
            var info = stat()
            guard lstat(path, &info) == 0 else {
                throw FastCGIError.socketSetupFailed(operation: "stat()", path: path, errno: errno)
            }
            let owned = ListeningSocket.OwnedPath(
                path: path, device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
            // Ownership and mode are set before listen(): until then connect() is refused, so nobody
            // ever sees the socket with the umask's permissions.
            do {
                if let groupID, chown(path, uid_t.max, groupID) != 0 {
                    throw FastCGIError.socketSetupFailed(operation: "chown()", path: path, errno: errno)
                }
                if chmod(path, mode) != 0 {
                    throw FastCGIError.socketSetupFailed(operation: "chmod()", path: path, errno: errno)
                }
                if listen(fd, backlog) != 0 {
                    throw FastCGIError.socketSetupFailed(operation: "listen()", path: path, errno: errno)
                }
            } catch {
                unlink(path)
                throw error
            }
            return ListeningSocket(fd: fd, ownedPath: owned, description: path)
        } catch {
            close(fd)
            throw error
        }
    }

    /// A socket file nobody answers on is left over from a crash: remove it. One that answers belongs to
    /// a running instance; anything that is not a socket is someone's file.
    static func removeStaleSocket(at path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT { return }
            throw FastCGIError.socketSetupFailed(operation: "stat()", path: path, errno: errno)
        }
        guard (info.st_mode & S_IFMT) == S_IFSOCK else { throw FastCGIError.socketPathOccupied(path: path) }

        let probe = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard probe >= 0 else { throw FastCGIError.socketSetupFailed(operation: "socket()", path: path, errno: errno) }
        defer { close(probe) }
        let connected = withSocketAddress(path) { address, length in connect(probe, address, length) }
        if connected == 0 { throw FastCGIError.socketInUse(path: path) }
        switch errno {
        case ECONNREFUSED:
            if unlink(path) != 0 && errno != ENOENT {
                throw FastCGIError.socketSetupFailed(operation: "unlink() of the stale socket", path: path, errno: errno)
            }
        case ENOENT:
            return
        case EAGAIN:
            // A full backlog: very much alive.
            throw FastCGIError.socketInUse(path: path)
        default:
            // EACCES and friends: we cannot tell whether it is alive, so it is not ours to remove.
            throw FastCGIError.socketSetupFailed(operation: "probing the existing socket", path: path, errno: errno)
        }
    }

    static func resolveGroup(_ name: String) throws -> gid_t {
        var group = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        let status = getgrnam_r(name, &group, &buffer, buffer.count, &result)
        if status == 0, let found = result { return found.pointee.gr_gid }
        if let numeric = gid_t(name) { return numeric }
        throw FastCGIError.unknownGroup(name)
    }

    /// Calls `body` with a `sockaddr_un` for `path` (validated to fit beforehand).
    static func withSocketAddress(
        _ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32
    ) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes.prefix(raw.count - 1))
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + 1)
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }
}
