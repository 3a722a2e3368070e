import Foundation
import TestSupport

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
        let executable = program == .echo ? try Binaries.fixture(program.rawValue) : try Binaries.path(program.rawValue)
        let process = try RunningProcess(executable, argv + arguments, environment: environment)
        let responder = ResponderProcess(program: program, socketPath: socket, process: process)
        let deadline = Date().addingTimeInterval(20)
        while !UnixSocket.accepts(socket) {
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
