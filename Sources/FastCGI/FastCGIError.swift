import Glibc

/// Every failure the FastCGI module reports. libfcgi's own reactions to these situations (printing to
/// stderr and calling `exit()`) are never reached: the checks happen here first.
public enum FastCGIError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The socket path is empty.
    case socketPathEmpty
    /// The socket path does not fit in `sockaddr_un.sun_path` (107 bytes plus the terminating NUL).
    case socketPathTooLong(path: String, bytes: Int)
    /// The directory that should hold the socket does not exist or is not a directory.
    case socketDirectoryMissing(directory: String)
    /// Another process answers on the socket: taking it over would silently steal its traffic.
    case socketInUse(path: String)
    /// Something that is not a socket sits at the path; it is never removed.
    case socketPathOccupied(path: String)
    /// The group asked to own the socket does not exist.
    case unknownGroup(String)
    /// A system call needed to create or configure the listening socket failed.
    case socketSetupFailed(operation: String, path: String, errno: Int32)
    /// systemd's `LISTEN_*` variables are present for this process but unusable.
    case invalidSocketActivation(detail: String)
    /// No way to listen was given: no socket path, no socket activation, and fd 0 is not a listening socket.
    case noListener
    /// The listener was expected on an inherited descriptor that is not a listening socket.
    case notAListeningSocket(fd: Int32)
    /// `FCGX_Init` failed.
    case libraryInitFailed(code: Int32)
    /// Accepting connections failed for a reason that retrying cannot fix.
    case acceptFailed(errno: Int32)
    /// The request body exceeds the limit the handler set; reading stopped there.
    case bodyTooLarge(limit: Int)
    /// Reading the request body from the web server failed.
    case bodyReadFailed
    /// The web server closed the connection (its client went away) while the response was written.
    case clientDisconnected
    /// A response was already started for this request.
    case responseAlreadyStarted
    /// `write`/`finish` was called before `beginResponse`.
    case responseNotStarted
    /// The request was already finished; its connection belongs to the next request now.
    case requestFinished
    /// A status outside 100...599.
    case invalidStatus(Int)
    /// A header name or value that would corrupt the response (CR, LF, NUL, colon in the name, empty name).
    case invalidHeader(name: String)

    public var description: String {
        switch self {
        case .socketPathEmpty:
            return "the socket path is empty"
        case .socketPathTooLong(let path, let bytes):
            return "the socket path \(path) is \(bytes) bytes long; unix sockets allow at most 107"
        case .socketDirectoryMissing(let directory):
            return "the socket directory \(directory) does not exist"
        case .socketInUse(let path):
            return "another process is already listening on \(path); refusing to take the socket over"
        case .socketPathOccupied(let path):
            return "\(path) exists and is not a socket; refusing to remove it"
        case .unknownGroup(let group):
            return "the socket group \(group) does not exist"
        case .socketSetupFailed(let operation, let path, let code):
            return "\(operation) failed for \(path): \(String(cString: strerror(code)))"
        case .invalidSocketActivation(let detail):
            return "invalid systemd socket activation: \(detail)"
        case .noListener:
            return "no socket to listen on: pass --socket PATH (or set PGBACKUP_FCGI_SOCKET), start the responder "
                + "through systemd socket activation, or give it a listening socket as fd 0 (spawn-fcgi)"
        case .notAListeningSocket(let fd):
            return "file descriptor \(fd) is not a listening socket"
        case .libraryInitFailed(let code):
            return "libfcgi failed to initialise (code \(code))"
        case .acceptFailed(let code):
            return "accepting FastCGI connections failed: \(String(cString: strerror(code)))"
        case .bodyTooLarge(let limit):
            return "the request body is larger than \(limit) bytes"
        case .bodyReadFailed:
            return "reading the request body failed"
        case .clientDisconnected:
            return "the client went away before the response was complete"
        case .responseAlreadyStarted:
            return "a response was already started for this request"
        case .responseNotStarted:
            return "no response was started for this request"
        case .requestFinished:
            return "the request is already finished"
        case .invalidStatus(let status):
            return "\(status) is not an HTTP status code"
        case .invalidHeader(let name):
            return "the header \(name.debugDescription) contains characters that are not allowed"
        }
    }
}
