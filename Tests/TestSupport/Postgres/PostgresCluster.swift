import Foundation

/// A throwaway PostgreSQL cluster in a temp directory, reachable only through a private unix-socket
/// directory. `postgres` connects with trust; the role `pwuser` must give a SCRAM password.
package final class PostgresCluster: @unchecked Sendable {
    package static let passwordUser = "pwuser"

    package let root: TemporaryDirectory
    package let dataDir: URL
    package let socketDir: URL
    package let logFile: URL
    /// Only names the socket file (`.s.PGSQL.<port>`) in our private directory, so it cannot clash
    /// with another cluster's; no TCP port is ever opened (`listen_addresses=''`).
    package let port: Int
    /// The SCRAM password of `pwuser`; contains `:` and `\` so pgpass escaping is exercised.
    package let password: String
    private let runAsPostgres = geteuid() == 0
    private let psqlPath: String
    private let pgDumpPath: String
    /// More `-c name=value` server settings, e.g. a larger `max_locks_per_transaction`.
    private let settings: [String: String]

    private init(settings: [String: String]) throws {
        self.settings = settings
        root = try TemporaryDirectory(prefix: "cluster")
        dataDir = root.appending("data")
        socketDir = root.appending("sock")
        logFile = root.appending("postgres.log")
        port = Int.random(in: 20_000...59_999)
        let token = UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        password = "pw:\(token)\\q #x"
        psqlPath = try ProcessRunner.tool("psql")
        pgDumpPath = try ProcessRunner.tool("pg_dump")
    }

    /// initdb + start; about a second or two.
    package static func start(settings: [String: String] = [:]) throws -> PostgresCluster {
        let cluster = try PostgresCluster(settings: settings)
        do {
            try cluster.initialise()
            try cluster.start()
            try cluster.psql("CREATE ROLE \(passwordUser) LOGIN SUPERUSER PASSWORD '\(cluster.password)'")
        } catch {
            cluster.destroy()
            throw error
        }
        return cluster
    }

    private func initialise() throws {
        try FileManager.default.createDirectory(at: socketDir, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: dataDir, withIntermediateDirectories: true)
        if runAsPostgres {
            for url in [root.url, socketDir, dataDir] { try FileTools.chownToPostgres(url) }
        }
        try owner("initdb", ["-D", dataDir.path, "-U", "postgres", "-A", "trust", "-N", "-E", "UTF8", "--locale=C"])
        // The scram line must come first: pg_hba.conf is matched top-down.
        let hba = """
            local all \(Self.passwordUser) scram-sha-256
            local all all trust

            """
        let hbaURL = dataDir.appendingPathComponent("pg_hba.conf")
        try hba.write(to: hbaURL, atomically: false, encoding: .utf8)
        if runAsPostgres { try FileTools.chownToPostgres(hbaURL) }
    }

    private var serverOptions: String {
        "-k \(socketDir.path) -p \(port) -c listen_addresses='' -c fsync=off -c password_encryption=scram-sha-256"
            + settings.sorted { $0.key < $1.key }.map { " -c \($0.key)=\($0.value)" }.joined()
    }

    package func start() throws {
        try owner("pg_ctl", ["-D", dataDir.path, "-l", logFile.path, "-o", serverOptions, "-w", "-t", "60", "start"])
    }

    /// Stops the server at once (no checkpoint), like a crash.
    package func stopImmediately() throws {
        try owner("pg_ctl", ["-D", dataDir.path, "-m", "immediate", "-w", "stop"])
    }

    package func restart() throws {
        try owner("pg_ctl", ["-D", dataDir.path, "-l", logFile.path, "-o", serverOptions, "-m", "fast", "-w", "-t", "60", "restart"])
    }

    /// Stops the server (if running) and removes every file of the cluster.
    package func destroy() {
        if FileManager.default.fileExists(atPath: dataDir.appendingPathComponent("postmaster.pid").path) {
            _ = try? owner("pg_ctl", ["-D", dataDir.path, "-m", "immediate", "-w", "stop"])
        }
        root.remove()
    }

    @discardableResult
    private func owner(_ tool: String, _ arguments: [String]) throws -> ProcessResult {
        let toolPath = try ProcessRunner.tool(tool)
        let result: ProcessResult
        if runAsPostgres {
            result = try ProcessRunner.run(
                try ProcessRunner.tool("runuser"), ["-u", "postgres", "--", toolPath] + arguments,
                environment: RunningProcess.baseEnvironment(home: root.path), timeout: .seconds(120))
        } else {
            result = try ProcessRunner.run(toolPath, arguments, environment: RunningProcess.baseEnvironment(home: root.path))
        }
        guard result.status == 0 else {
            let log = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
            throw HarnessError.commandFailed("\(tool) \(arguments.joined(separator: " "))\n--- server log ---\n\(log.suffix(3_000))", result)
        }
        return result
    }

    // MARK: - Talking to the server

    /// The connection settings pgbackup reads, for `database`.
    package func environment(database: String, user: String = "postgres") -> [String: String] {
        [
            "POSTGRES_HOST": socketDir.path,
            "POSTGRES_PORT": String(port),
            "POSTGRES_USER": user,
            "POSTGRES_DB": database,
        ]
    }

    private func libpqEnvironment() -> [String: String] {
        var env = RunningProcess.baseEnvironment(home: root.path)
        env["PGHOST"] = socketDir.path
        env["PGPORT"] = String(port)
        env["PGUSER"] = "postgres"
        return env
    }

    /// Runs `sql` through `psql -X -At -v ON_ERROR_STOP=1` and returns the result, failures included.
    package func psqlResult(_ sql: String, database: String = "postgres", timeout: Duration = .seconds(300)) throws -> ProcessResult {
        try ProcessRunner.run(
            psqlPath, ["-X", "-At", "-q", "-v", "ON_ERROR_STOP=1", "-d", database, "-f", "-"],
            environment: libpqEnvironment(), stdin: Data(sql.utf8), timeout: timeout)
    }

    /// Runs `sql` and returns its trimmed stdout; a failing statement throws.
    @discardableResult
    package func psql(_ sql: String, database: String = "postgres") throws -> String {
        let result = try psqlResult(sql, database: database)
        guard result.status == 0, !result.timedOut else { throw HarnessError.commandFailed("psql on \(database)", result) }
        return result.out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Feeds a whole SQL script (e.g. a decompressed dump) to psql on `database`.
    package func psqlScript(_ script: Data, database: String) throws -> ProcessResult {
        try ProcessRunner.run(
            psqlPath, ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", database, "-f", "-"],
            environment: libpqEnvironment(), stdin: script, timeout: .seconds(300))
    }

    /// Starts a psql session that holds an ACCESS EXCLUSIVE lock on `table` for up to `seconds`, and returns
    /// once the lock is granted. A pg_dump started meanwhile waits for it: a dump that reliably takes that
    /// long, or until `release()`.
    package func holdTableLock(_ table: String, in database: String, seconds: Int) throws -> TableLock {
        let marker = "holdlock_\(UUID().uuidString.prefix(8))"
        let sql = "SET application_name = '\(marker)'; BEGIN; LOCK TABLE \(table) IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(\(seconds)); COMMIT;"
        let session = try RunningProcess(
            psqlPath, ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", database, "-f", "-"],
            environment: libpqEnvironment(), stdin: Data(sql.utf8))
        let lock = TableLock(cluster: self, session: session, applicationName: marker)
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let granted = try psql(
                """
                SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                WHERE a.application_name = '\(marker)' AND l.mode = 'AccessExclusiveLock' AND l.granted
                  AND l.relation = '\(table)'::regclass
                """, database: database)
            if granted != "0" { return lock }
            if !session.isRunning { throw HarnessError.commandFailed("lock session", session.wait()) }
            usleep(20_000)
        }
        lock.release()
        throw HarnessError.setup("the lock on \(table) was not granted within 30 s")
    }

    package func createDatabase(_ name: String) throws {
        try psql("CREATE DATABASE \"\(name)\" TEMPLATE template0 ENCODING 'UTF8'")
    }

    package func dropDatabase(_ name: String) throws {
        try psql("DROP DATABASE IF EXISTS \"\(name)\" WITH (FORCE)")
    }

    /// `pg_dump --no-owner --no-acl` of `database` (plus `extraArguments`), raw.
    package func dump(_ database: String, extraArguments: [String] = []) throws -> String {
        let result = try ProcessRunner.run(
            pgDumpPath, ["--no-owner", "--no-acl"] + extraArguments + ["-d", database], environment: libpqEnvironment(),
            timeout: .seconds(300))
        guard result.status == 0 else { throw HarnessError.commandFailed("pg_dump \(database)", result) }
        return result.out
    }
}
