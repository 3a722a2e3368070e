import Foundation
import TestSupport

/// An application's database session that stays open: psql reads its SQL from a FIFO this object holds open, so
/// after `BEGIN; SELECT … FROM t;` it sits "idle in transaction" holding its lock on `t`, as a real application
/// between two statements does, until `send` gives it more or `close()` ends it.
final class ApplicationSession: @unchecked Sendable {
    let applicationName: String
    let database: String
    private let cluster: PostgresCluster
    private let process: RunningProcess
    private var fifo: Int32

    init(cluster: PostgresCluster, database: String, in directory: URL, name: String = "app") throws {
        self.cluster = cluster
        self.database = database
        applicationName = CLITestContext.uniqueName(name)
        let path = directory.appendingPathComponent(applicationName + ".fifo").path
        guard mkfifo(path, 0o600) == 0 else { throw HarnessError.setup("mkfifo \(path): errno \(errno)") }
        // Read-write, so opening never waits for psql and psql never sees EOF until we close it.
        fifo = open(path, O_RDWR | O_CLOEXEC)
        guard fifo >= 0 else { throw HarnessError.setup("open \(path): errno \(errno)") }
        let connection = cluster.environment(database: database)
        var env = RunningProcess.baseEnvironment()
        env["PGHOST"] = connection["POSTGRES_HOST"]
        env["PGPORT"] = connection["POSTGRES_PORT"]
        env["PGUSER"] = connection["POSTGRES_USER"]
        env["PGDATABASE"] = database
        env["PGAPPNAME"] = applicationName
        process = try RunningProcess(try ProcessRunner.tool("psql"), ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", path],
                                     environment: env)
    }

    deinit { close() }

    func send(_ sql: String) {
        let bytes = Array((sql + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(fifo, $0.baseAddress, $0.count) }
    }

    /// Sends `sql` and waits until the session's backend is in `state`; returns its pid.
    @discardableResult
    func run(_ sql: String, until state: String = "idle in transaction") throws -> String {
        send(sql)
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let pid = try backendPID(state: state) { return pid }
            guard process.isRunning else { throw HarnessError.commandFailed("application session", process.wait()) }
            usleep(20_000)
        }
        throw HarnessError.setup("the session \(applicationName) did not reach '\(state)' within 30 s")
    }

    /// The backend's pid while it exists (in `state`, when given).
    func backendPID(state: String? = nil) throws -> String? {
        let pid = try cluster.psql("""
            SELECT pid FROM pg_stat_activity WHERE application_name = '\(applicationName)'
            \(state.map { "AND state = '\($0)'" } ?? "")
            """)
        return pid.isEmpty ? nil : pid
    }

    var isRunning: Bool { process.isRunning }

    /// Ends the session (EOF: psql rolls back and exits). Safe to call twice.
    func close() {
        guard fifo >= 0 else { return }
        Glibc.close(fifo)
        fifo = -1
        if process.wait(timeout: .seconds(10)).timedOut { process.signal(SIGKILL) }
    }
}
