import Foundation

/// How to reach the PostgreSQL server.
public struct PostgresConnection: Sendable, Equatable {
    /// `POSTGRES_HOST`: a host name, or a directory holding the server's unix socket.
    public var host: String
    /// `POSTGRES_PORT`.
    public var port: Int
    /// `POSTGRES_DB`: the database that is backed up and, by default, restored into.
    public var database: String
    /// `POSTGRES_USER`.
    public var user: String
    /// `POSTGRES_PASSWORD`, or the first line of `POSTGRES_PASSWORD_FILE`. Never logged or shown.
    public var password: String?

    public init(host: String, port: Int, database: String, user: String, password: String? = nil) {
        self.host = host
        self.port = port
        self.database = database
        self.user = user
        self.password = password
    }
}

/// All settings, built once from an environment dictionary. Every environment name lives in this file.
public struct Configuration: Sendable, Equatable {
    /// `BACKUP_DIR`: where backups live (created 0700).
    public var backupDirectory: String
    /// `BACKUP_RETENTION_DAYS`: backups younger than this are kept.
    public var retentionDays: Int
    /// `BACKUP_MAX_COUNT`: the newest this many backups are kept whatever their age.
    public var maxCount: Int
    /// `BACKUP_INTERVAL_HOURS`: how often the scheduler makes a backup.
    public var intervalHours: Int
    /// `BACKUP_ENABLED`: whether the scheduler makes backups at all.
    public var enabled: Bool
    /// `BACKUP_COMPRESSION_LEVEL`: gzip level 1–9.
    public var compressionLevel: Int
    /// `BACKUP_LOCK_WAIT_TIMEOUT`: seconds pg_dump (create) and psql (restore, `lock_timeout`) wait for a lock.
    public var lockWaitTimeoutSeconds: Int
    /// `POSTGRES_*`.
    public var postgres: PostgresConnection
    /// `PGBACKUP_OPERATORS`: API users (nginx's `REMOTE_USER`) who may change anything or download; unset: nobody.
    public var operators: Operators

    public static let defaultEnvFile = "/etc/pgbackup/pgbackup.env"

    public init(
        backupDirectory: String = "/var/lib/pgbackup/backups", retentionDays: Int = 7, maxCount: Int = 30,
        intervalHours: Int = 24, enabled: Bool = true, compressionLevel: Int = 6, lockWaitTimeoutSeconds: Int = 300,
        postgres: PostgresConnection = PostgresConnection(
            host: "localhost", port: 5432, database: "postgres", user: "postgres"),
        operators: Operators = .unset
    ) {
        self.backupDirectory = backupDirectory
        self.retentionDays = retentionDays
        self.maxCount = maxCount
        self.intervalHours = intervalHours
        self.enabled = enabled
        self.compressionLevel = compressionLevel
        self.lockWaitTimeoutSeconds = lockWaitTimeoutSeconds
        self.postgres = postgres
        self.operators = operators
    }

    static let knownBackupKeys: Set<String> = [
        "BACKUP_DIR", "BACKUP_RETENTION_DAYS", "BACKUP_MAX_COUNT", "BACKUP_INTERVAL_HOURS", "BACKUP_ENABLED",
        "BACKUP_COMPRESSION_LEVEL", "BACKUP_LOCK_WAIT_TIMEOUT",
    ]

    /// Builds the configuration from `environment`, which wins over the env file's values.
    /// - Parameters:
    ///   - environment: the process environment (injected so tests can pass their own).
    ///   - envFile: an explicit env file (`--env-file`); else `PGBACKUP_ENV_FILE`; else the default file if present.
    /// - Returns: the configuration and warnings for a person (unknown `BACKUP_*` keys).
    public static func load(environment: [String: String], envFile: String? = nil) throws -> (
        Configuration, warnings: [String]
    ) {
        var merged: [String: String] = [:]
        let explicitFile = envFile ?? environment["PGBACKUP_ENV_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        if let path = explicitFile {
            merged = try EnvFile.read(path: path)
        } else if FileManager.default.isReadableFile(atPath: defaultEnvFile) {
            merged = try EnvFile.read(path: defaultEnvFile)
        }
        for (key, value) in environment { merged[key] = value }
        var (configuration, warnings) = try parse(merged)
        configuration.backupDirectory = try resolveBackupDirectory(configuration.backupDirectory)
        return (configuration, warnings)
    }

    /// Parses an already merged dictionary.
    public static func parse(_ values: [String: String]) throws -> (Configuration, warnings: [String]) {
        var config = Configuration()
        var warnings: [String] = []
        func value(_ key: String) -> String? {
            guard let raw = values[key] else { return nil }
            let trimmed = raw.trimmingCharacters(in: .whitespaces)
            return trimmed.isEmpty ? nil : trimmed
        }
        func positive(_ key: String, max: Int = Int(Int32.max)) throws -> Int? {
            guard let text = value(key) else { return nil }
            guard let number = Int(text) else {
                throw BackupError.invalidConfiguration(variable: key, value: text, reason: "not a whole number")
            }
            guard number >= 1, number <= max else {
                throw BackupError.invalidConfiguration(
                    variable: key, value: text, reason: "must be between 1 and \(max)")
            }
            return number
        }

        if let dir = value("BACKUP_DIR") {
            guard !dir.contains("\0"), !dir.contains("\n") else {
                throw BackupError.invalidConfiguration(variable: "BACKUP_DIR", value: dir, reason: "not a path")
            }
            config.backupDirectory = URL(fileURLWithPath: dir).standardizedFileURL.path
        }
        if let days = try positive("BACKUP_RETENTION_DAYS", max: 36_500) { config.retentionDays = days }
        if let count = try positive("BACKUP_MAX_COUNT", max: 1_000_000) { config.maxCount = count }
        if let hours = try positive("BACKUP_INTERVAL_HOURS", max: 87_600) { config.intervalHours = hours }
        if let level = try positive("BACKUP_COMPRESSION_LEVEL", max: 9) { config.compressionLevel = level }
        if let seconds = try positive("BACKUP_LOCK_WAIT_TIMEOUT", max: 86_400) { config.lockWaitTimeoutSeconds = seconds }
        if let text = value("BACKUP_ENABLED") {
            switch text.lowercased() {
            case "true", "1", "yes", "on": config.enabled = true
            case "false", "0", "no", "off": config.enabled = false
            default:
                throw BackupError.invalidConfiguration(
                    variable: "BACKUP_ENABLED", value: text, reason: "expected true/false/1/0/yes/no")
            }
        }
        if let host = value("POSTGRES_HOST") { config.postgres.host = host }
        if let port = try positive("POSTGRES_PORT", max: 65_535) { config.postgres.port = port }
        if let database = value("POSTGRES_DB") {
            if let reason = DatabaseName.problem(database) {
                throw BackupError.invalidConfiguration(variable: "POSTGRES_DB", value: database, reason: reason)
            }
            config.postgres.database = database
        }
        if let user = value("POSTGRES_USER") {
            guard !user.contains("\0"), !user.contains("\n") else {
                throw BackupError.invalidConfiguration(
                    variable: "POSTGRES_USER", value: user, reason: "contains a control character")
            }
            config.postgres.user = user
        }
        if let path = value("POSTGRES_PASSWORD_FILE") {
            config.postgres.password = try readPasswordFile(path)
        } else if let password = values["POSTGRES_PASSWORD"], !password.isEmpty {
            config.postgres.password = password
        }
        config.operators = try Operators.parse(values["PGBACKUP_OPERATORS"])
        for key in values.keys.sorted() where key.hasPrefix("BACKUP_") && !knownBackupKeys.contains(key) {
            warnings.append("unknown setting \(key) is ignored")
        }
        return (config, warnings)
    }

    private static func readPasswordFile(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BackupError.invalidConfiguration(
                variable: "POSTGRES_PASSWORD_FILE", value: path, reason: "cannot read the file")
        }
        let firstLine = data.split(separator: UInt8(ascii: "\n"), maxSplits: 1, omittingEmptySubsequences: false).first ?? Data()
        let password = String(decoding: firstLine.last == UInt8(ascii: "\r") ? firstLine.dropLast() : firstLine, as: UTF8.self)
        guard !password.isEmpty else {
            throw BackupError.invalidConfiguration(
                variable: "POSTGRES_PASSWORD_FILE", value: path, reason: "the file is empty")
        }
        return password
    }
}

/// Reads `KEY=VALUE` files without executing them: `#` comments, blank lines, an optional `export `,
/// and values in single or double quotes.
public enum EnvFile {
    public static func read(path: String) throws -> [String: String] {
        guard let handle = FileHandle(forReadingAtPath: path), let data = try? handle.readToEnd() ?? Data() else {
            throw BackupError.invalidConfiguration(variable: "env file", value: path, reason: "cannot read the file")
        }
        try? handle.close()
        return try parse(String(decoding: data, as: UTF8.self), source: path)
    }

    /// Parses env-file text. Errors name the file, the line and the key, never a value (it may be a password).
    public static func parse(_ text: String, source: String = "env file") throws -> [String: String] {
        var result: [String: String] = [:]
        let lines = Array(text.utf8).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        for (index, rawLine) in lines.enumerated() {
            let location = "\(source) line \(index + 1)"
            var line = String(decoding: rawLine.last == UInt8(ascii: "\r") ? rawLine.dropLast() : rawLine, as: UTF8.self)
                .trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
            guard let equals = line.firstIndex(of: "=") else {
                throw BackupError.invalidConfiguration(variable: location, value: "(not shown)", reason: "expected KEY=VALUE")
            }
            let key = String(line[..<equals]).trimmingCharacters(in: .whitespaces)
            guard isValidKey(key) else {
                throw BackupError.invalidConfiguration(
                    variable: location, value: String(key.prefix(40)), reason: "not a valid variable name")
            }
            result[key] = try unquote(
                String(line[line.index(after: equals)...]).trimmingCharacters(in: .whitespaces),
                location: "\(location) (\(key))")
        }
        return result
    }

    private static func isValidKey(_ key: String) -> Bool {
        guard let first = key.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic)
        else { return false }
        return key.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && $0.properties.isAlphabetic) || ("0"..."9").contains($0) }
    }

    /// Removes one pair of quotes: the closing quote is the first unescaped one, and only blanks or a `#`
    /// comment may follow it. Double quotes understand `\"`, `\\`, `\n` and `\t`; single quotes nothing.
    private static func unquote(_ value: String, location: String) throws -> String {
        guard let quote = value.first, quote == "\"" || quote == "'" else {
            // Unquoted: a ` #` starts a comment, as in shell env files.
            if let hash = value.range(of: " #") { return String(value[..<hash.lowerBound]).trimmingCharacters(in: .whitespaces) }
            return value
        }
        var out = ""
        var escaped = false
        var closing: String.Index?
        var index = value.index(after: value.startIndex)
        while index < value.endIndex {
            let character = value[index]
            if escaped {
                switch character {
                case "n": out.append("\n")
                case "t": out.append("\t")
                default: out.append(character)
                }
                escaped = false
            } else if character == "\\" && quote == "\"" {
                escaped = true
            } else if character == quote {
                closing = index
                break
            } else {
                out.append(character)
            }
            index = value.index(after: index)
        }
        guard let closing else {
            throw BackupError.invalidConfiguration(variable: location, value: "(not shown)", reason: "unterminated quote")
        }
        let rest = value[value.index(after: closing)...].trimmingCharacters(in: .whitespaces)
        guard rest.isEmpty || rest.hasPrefix("#") else {
            throw BackupError.invalidConfiguration(variable: location, value: "(not shown)", reason: "text after the closing quote")
        }
        return out
    }
}

/// PostgreSQL database names that pgbackup accepts from outside: plain identifiers only, so a name can never
/// be read as options or as a connection string.
public enum DatabaseName {
    /// Why `name` is refused, or nil when it is acceptable.
    public static func problem(_ name: String) -> String? {
        let scalars = Array(name.unicodeScalars)
        let allowed = scalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "_-$.".unicodeScalars.contains($0))
        }
        guard !scalars.isEmpty, scalars.count <= 63, scalars[0] != "-", allowed else {
            return "a database name may hold only letters, digits, '_', '-', '$' and '.' (at most 63, not starting with '-')"
        }
        return nil
    }
}
