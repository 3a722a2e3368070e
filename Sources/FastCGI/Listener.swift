import Glibc

/// Where the responder accepts FastCGI connections from the web server.
public enum Listener: Sendable, Equatable {
    /// Bind a unix socket at `path`. A socket that answers `connect()` is never taken over, a stale one is
    /// removed, anything else at the path is left alone and reported. The socket gets `mode` and, when
    /// given, `group` (a name or a numeric id) before it starts listening, so the web server's workers
    /// can connect as soon as it exists.
    case unixSocket(path: String, mode: mode_t = 0o660, group: String? = nil)
    /// systemd socket activation: `LISTEN_FDS=1` and `LISTEN_PID` equal to our pid hand us fd 3.
    case inheritedSystemd
    /// The listening socket is fd 0, as spawn-fcgi and `StandardInput=socket` provide it.
    case inheritedStdin

    /// The environment variable that names the socket when no explicit path is given.
    public static let socketEnvironmentKey = "PGBACKUP_FCGI_SOCKET"

    /// Picks the listener in the documented order: an explicit socket path (`--socket`), else
    /// `PGBACKUP_FCGI_SOCKET`, else systemd's `LISTEN_FDS` when `LISTEN_PID` is this process, else fd 0
    /// when it is a listening socket; otherwise throws `FastCGIError.noListener`.
    public static func resolve(
        socketPath: String?,
        environment: [String: String],
        mode: mode_t = 0o660,
        group: String? = nil,
        processID: pid_t = getpid(),
        isListeningSocket: (Int32) -> Bool = Listener.isListeningSocket
    ) throws -> Listener {
        if let socketPath {
            guard !socketPath.isEmpty else { throw FastCGIError.socketPathEmpty }
            return .unixSocket(path: socketPath, mode: mode, group: group)
        }
        if let fromEnvironment = environment[socketEnvironmentKey], !fromEnvironment.isEmpty {
            return .unixSocket(path: fromEnvironment, mode: mode, group: group)
        }
        if try SystemdActivation.isForThisProcess(environment: environment, processID: processID) {
            return .inheritedSystemd
        }
        if isListeningSocket(0) {
            return .inheritedStdin
        }
        throw FastCGIError.noListener
    }

    /// Whether `fd` is a socket in the listening state (`SO_ACCEPTCONN`).
    public static func isListeningSocket(_ fd: Int32) -> Bool {
        var accepting: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &length) == 0 else { return false }
        return accepting != 0
    }

    /// Opens the listener. The returned socket is close-on-exec, so processes the handlers spawn
    /// (pg_dump, psql) never inherit it.
    func open(backlog: Int32 = 1024) throws -> ListeningSocket {
        switch self {
        case .unixSocket(let path, let mode, let group):
            return try UnixSocketBinder.bind(path: path, mode: mode, group: group, backlog: backlog)
        case .inheritedSystemd:
            return try SystemdActivation.take()
        case .inheritedStdin:
            return try Self.takeStandardInput()
        }
    }

    /// Moves the listening socket off fd 0 to a close-on-exec descriptor and puts /dev/null in its place:
    /// child processes then get a harmless stdin instead of our listener.
    private static func takeStandardInput() throws -> ListeningSocket {
        guard isListeningSocket(0) else { throw FastCGIError.notAListeningSocket(fd: 0) }
        let moved = fcntl(0, F_DUPFD_CLOEXEC, 3)
        guard moved >= 0 else {
            throw FastCGIError.socketSetupFailed(operation: "duplicating fd 0", path: "stdin", errno: errno)
        }
        let null = Glibc.open("/dev/null", O_RDWR | O_CLOEXEC)
        if null >= 0 {
            dup2(null, 0)  // dup2 clears close-on-exec on fd 0, which is what stdin needs
            close(null)
        }
        return ListeningSocket(fd: moved, ownedPath: nil, description: "fd 0 (inherited listening socket)")
    }
}

/// systemd's socket-activation protocol (sd_listen_fds(3)), reduced to the one socket we expect.
enum SystemdActivation {
    static let firstDescriptor: Int32 = 3

    /// True when `LISTEN_FDS` is meant for this process; throws when it is, but is malformed.
    static func isForThisProcess(environment: [String: String], processID: pid_t) throws -> Bool {
        guard let count = environment["LISTEN_FDS"] else { return false }
        // Like sd_listen_fds: variables addressed to another process (a parent that did not clean up) are ignored.
        guard let pid = environment["LISTEN_PID"], let target = pid_t(pid), target == processID else { return false }
        guard let number = Int(count) else {
            throw FastCGIError.invalidSocketActivation(detail: "LISTEN_FDS=\(count) is not a number")
        }
        guard number == 1 else {
            throw FastCGIError.invalidSocketActivation(
                detail: "LISTEN_FDS=\(number); the responder takes exactly one socket")
        }
        return true
    }

    /// Takes fd 3 and removes the `LISTEN_*` variables so that children do not believe they were activated.
    static func take() throws -> ListeningSocket {
        var environment: [String: String] = [:]
        for key in ["LISTEN_FDS", "LISTEN_PID"] {
            if let value = getenv(key) { environment[key] = String(cString: value) }
        }
        guard try isForThisProcess(environment: environment, processID: getpid()) else {
            throw FastCGIError.invalidSocketActivation(detail: "LISTEN_FDS/LISTEN_PID are not set for this process")
        }
        for key in ["LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"] { unsetenv(key) }
        let fd = firstDescriptor
        guard Listener.isListeningSocket(fd) else { throw FastCGIError.notAListeningSocket(fd: fd) }
        let flags = fcntl(fd, F_GETFD)
        if flags >= 0 { _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC) }
        return ListeningSocket(fd: fd, ownedPath: nil, description: "fd 3 (systemd socket activation)")
    }
}
