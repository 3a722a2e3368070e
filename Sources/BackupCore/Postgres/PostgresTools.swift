import Foundation

/// Builds the pg_dump and psql commands. The connection travels in the child's environment (PGHOST, PGPORT,
/// PGUSER, PGDATABASE, PGPASSWORD), never in argv, so neither a password nor a database name from outside can be
/// read as an option or a connection string.
public struct PostgresTools: Sendable {
    public let connection: PostgresConnection
    public let lockWaitTimeoutSeconds: Int
    /// The parent environment's PATH and locale, passed on to children.
    let baseEnvironment: [String: String]

    public init(connection: PostgresConnection, lockWaitTimeoutSeconds: Int = 300,
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.connection = connection
        self.lockWaitTimeoutSeconds = lockWaitTimeoutSeconds
        var base: [String: String] = ["PATH": environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"]
        // Pass through what affects messages, TLS and a user's own ~/.pgpass, nothing that could redirect the
        // connection (PGSERVICE, PGOPTIONS…).
        for key in ["HOME", "LANG", "LC_ALL", "LC_MESSAGES", "PGSSLMODE", "PGSSLROOTCERT", "PGSSLCERT", "PGSSLKEY",
                    "PGPASSFILE"] {
            if let value = environment[key] { base[key] = value }
        }
        baseEnvironment = base
    }

    func environment(database: String) -> [String: String] {
        var env = baseEnvironment
        env["PGHOST"] = connection.host
        env["PGPORT"] = String(connection.port)
        env["PGUSER"] = connection.user
        env["PGDATABASE"] = database
        env["PGAPPNAME"] = "pgbackup"
        env["PGCONNECT_TIMEOUT"] = "10"
        if let password = connection.password { env["PGPASSWORD"] = password }
        return env
    }

    /// `pg_dump` writing a plain SQL dump of `database` to stdout.
    public func dumpCommand(database: String) -> Command {
        Command(
            executable: "pg_dump",
            arguments: ["--format=plain", "--clean", "--if-exists", "--no-owner", "--no-acl",
                        "--lock-wait-timeout=\(lockWaitTimeoutSeconds)s", "--no-password"],
            environment: environment(database: database))
    }

    /// `psql` reading a dump on stdin, stopping at the first error.
    public func restoreCommand(database: String) -> Command {
        Command(
            executable: "psql",
            arguments: ["-X", "-q", "--no-password", "-v", "ON_ERROR_STOP=1"],
            environment: environment(database: database))
    }

    /// `psql` running one query, unaligned, tuples only.
    public func queryCommand(_ sql: String, database: String) -> Command {
        Command(executable: "psql", arguments: ["-X", "-A", "-t", "--no-password", "-v", "ON_ERROR_STOP=1", "-c", sql],
                environment: environment(database: database))
    }

    /// Removes the password from text that is about to be shown or logged (whole tokens only, see `Redaction`).
    public func redact(_ text: String) -> String { Redaction.redact(text, password: connection.password) }

    /// The server's version ("15.18") and `server_version_num`; a connection failure is `databaseUnreachable`.
    public func serverVersion(database: String) throws -> (text: String, number: Int) {
        let query = queryCommand("SHOW server_version_num", database: database)
        let result = try BackupError.mapping { try ChildProcess.run(query) }
        guard result.status == 0, let number = Int(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            let message = redact(result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
            if message.contains("does not exist") && message.contains("database") {
                throw BackupError.invalidInput("database '\(database)' does not exist: \(message)")
            }
            // The server answered: the database exists but refuses connections (datallowconn off, as template0).
            if message.contains("is not currently accepting connections") {
                throw BackupError.invalidInput("database '\(database)' does not accept connections: \(message)")
            }
            throw BackupError.databaseUnreachable(message.isEmpty ? "psql exited with \(result.status)" : message)
        }
        return (PostgresTools.versionText(number), number)
    }

    /// pg_dump's version as text ("15.18") and as a server_version_num-style number.
    public func pgDumpVersion() throws -> (text: String, number: Int) {
        let result = try BackupError.mapping {
            try ChildProcess.run(Command(executable: "pg_dump", arguments: ["--version"], environment: baseEnvironment))
        }
        guard result.status == 0, let parsed = PostgresTools.parseToolVersion(result.stdout) else {
            throw BackupError.launchFailed(program: "pg_dump", message: "cannot read its version: \(result.stderr)")
        }
        return parsed
    }

    /// Reads "pg_dump (PostgreSQL) 15.18 (Debian …)" → ("15.18", 150018).
    static func parseToolVersion(_ output: String) -> (text: String, number: Int)? {
        guard let token = output.split(separator: " ").first(where: { $0.first?.isNumber == true }) else { return nil }
        let version = token.prefix { $0.isNumber || $0 == "." }
        let parts = version.split(separator: ".").compactMap { Int($0) }
        guard let major = parts.first else { return nil }
        let minor = parts.count > 1 ? parts[1] : 0
        return (String(version), major >= 10 ? major * 10_000 + minor : major * 10_000 + minor * 100)
    }

    static func versionText(_ number: Int) -> String {
        number >= 100_000 ? "\(number / 10_000).\(number % 10_000)" : "\(number / 10_000).\(number / 100 % 100).\(number % 100)"
    }
}
