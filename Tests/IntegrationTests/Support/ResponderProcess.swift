import Foundation

/// A FastCGI responder started for a test on its own unix socket: the real `pgbackup-fcgi`, or the test-only
/// `fcgi-echo` (which reports the FastCGI params nginx sent). When the tests run as root, the socket gets the
/// nginx workers' group, as production does.
final class ResponderProcess: @unchecked Sendable {
    enum Program: String {
        case pgbackupFCGI = "pgbackup-fcgi"
        case echo = "fcgi-echo"
    }

    let program: Program
    let socketPath: String
    let process: RunningProcess

    /// The group nginx's workers run in when the tests run as root (local.sh's default worker user).
    static var workerGroup: String? { geteuid() == 0 ? "www-data" : nil }

    private init(program: Program, socketPath: String, process: RunningProcess) {
        self.program = program
        self.socketPath = socketPath
        self.process = process
    }

    /// Starts the responder and waits until its socket accepts connections.
    static func start(_ program: Program, socket: String, environment: [String: String],
                      arguments: [String] = []) throws -> ResponderProcess {
        var argv = ["--socket", socket]
        if let group = workerGroup { argv += ["--socket-group", group] }
        let process = try RunningProcess(try Binaries.path(program.rawValue), argv + arguments, environment: environment)
        let responder = ResponderProcess(program: program, socketPath: socket, process: process)
        let deadline = Date().addingTimeInterval(20)
        while !UnixSocketProbe.accepts(socket) {
            guard process.isRunning else {
                throw HarnessError.commandFailed("\(program.rawValue) --socket \(socket)", process.wait(timeout: .seconds(5)))
            }
            guard Date() < deadline else {
                process.signal(SIGKILL)
                throw HarnessError.commandFailed("\(program.rawValue) never accepted on \(socket)", process.wait(timeout: .seconds(5)))
            }
            usleep(20_000)
        }
        return responder
    }

    var pid: pid_t { process.pid }

    /// Stops it (SIGTERM lets in-flight requests finish) and returns what it logged.
    @discardableResult
    func stop(signal: Int32 = SIGTERM, timeout: Duration = .seconds(30)) -> ProcessResult {
        process.signal(signal)
        return process.wait(timeout: timeout)
    }
}

/// Whether something accepts connections on a unix socket.
enum UnixSocketProbe {
    static func accepts(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
            }
        }
    }
}

/// Loopback ports nobody listens on.
enum FreePort {
    /// Asks the kernel for an unused port on 127.0.0.1 (the caller binds it soon after; a lost race is retried).
    static func next() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HarnessError.setup("socket: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { throw HarnessError.setup("bind 127.0.0.1:0: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
