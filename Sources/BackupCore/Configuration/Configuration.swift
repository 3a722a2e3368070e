import Foundation

/// All settings, built once from an environment dictionary. Every environment name is read in this file.
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
    /// `BACKUP_COMPRESSION`: the codec of new backups, `gzip` (the old tool's, the default) or `zstd`.
    public var codec: Codec
    /// `BACKUP_COMPRESSION_LEVEL`: within `codec.levels` (gzip 1–9, default 6; zstd 1–19, default 3).
    public var compressionLevel: Int
    /// `BACKUP_LOCK_WAIT_TIMEOUT`: seconds pg_dump (create) and psql (restore, `lock_timeout`) wait for a lock.
    public var lockWaitTimeoutSeconds: Int
    /// `BACKUP_DRILL_DATABASE`: the prefix of a restore drill's scratch database (`<prefix>_YYYYMMDD_HHMMSS`).
    public var drillDatabasePrefix = "pgbackup_drill"
    /// `BACKUP_DRILL_INTERVAL_HOURS`: how often the scheduler drills the newest backup after its backup; 0 = never.
    public var drillIntervalHours = 168
    /// `BACKUP_KEEP_PREVIOUS_DATABASES`: how many `<db>_before_*` databases `restore --swap` keeps per target for
    /// `rollback` (the newest); 0 drops the previous database at once after a swap (no rollback).
    public var keepPreviousDatabases = 1
    /// `BACKUP_RESTORE_JOBS`: psql sessions a load into a new database (a drill, a swap) uses at once, 1…8; default this
    /// machine's CPU count, at most 8 (the server is usually local).
    public var restoreJobs = Configuration.defaultRestoreJobs
    /// `POSTGRES_*`.
    public var postgres: PostgresConnection
    /// `PGBACKUP_OPERATORS`: API users (nginx's `REMOTE_USER`) who may change anything or download; unset: nobody.
    public var operators: Operators
    /// `BACKUP_METRICS_TEXTFILE`, `BACKUP_NOTIFY_URL`, `BACKUP_NOTIFY_ON`, `BACKUP_HEALTHCHECK_URL` (see `Monitoring`).
    public var monitoring = Monitoring()
    /// `BACKUP_AGE_RECIPIENTS_FILE`: age public keys; when set, every new backup is encrypted to all of them.
    public var ageRecipients: AgeRecipients?
    /// `BACKUP_AGE_IDENTITY_FILE`: the age private key a restore or a full verify decrypts with (0600).
    public var ageIdentity: AgeIdentity?
    /// `BACKUP_REMOTE`, `BACKUP_RCLONE_CONFIG`, `BACKUP_REMOTE_RETENTION_DAYS`, `BACKUP_REMOTE_MAX_COUNT`: off-site
    /// copies through rclone (see `Configuration+Remote`); nil when `BACKUP_REMOTE` is unset.
    public var remote: RemoteSettings?

    public static let defaultEnvFile = "/etc/pgbackup/pgbackup.env"
    public static let defaultRestoreJobs = min(8, max(1, ProcessInfo.processInfo.activeProcessorCount))

    public init(
        backupDirectory: String = "/var/lib/pgbackup/backups", retentionDays: Int = 7, maxCount: Int = 30,
        intervalHours: Int = 24, enabled: Bool = true, codec: Codec = .gzip, compressionLevel: Int? = nil,
        lockWaitTimeoutSeconds: Int = 300,
        postgres: PostgresConnection = PostgresConnection(
            host: "localhost", port: 5432, database: "postgres", user: "postgres"),
        operators: Operators = .unset
    ) {
        self.backupDirectory = backupDirectory
        self.retentionDays = retentionDays
        self.maxCount = maxCount
        self.intervalHours = intervalHours
        self.enabled = enabled
        self.codec = codec
        self.compressionLevel = compressionLevel ?? codec.defaultLevel
        self.lockWaitTimeoutSeconds = lockWaitTimeoutSeconds
        self.postgres = postgres
        self.operators = operators
    }

    static let knownBackupKeys: Set<String> = Set([
        "BACKUP_DIR", "BACKUP_RETENTION_DAYS", "BACKUP_MAX_COUNT", "BACKUP_INTERVAL_HOURS", "BACKUP_ENABLED",
        "BACKUP_COMPRESSION", "BACKUP_COMPRESSION_LEVEL", "BACKUP_LOCK_WAIT_TIMEOUT",
        "BACKUP_DRILL_DATABASE", "BACKUP_DRILL_INTERVAL_HOURS", "BACKUP_RESTORE_JOBS", "BACKUP_KEEP_PREVIOUS_DATABASES",
        "BACKUP_AGE_RECIPIENTS_FILE", "BACKUP_AGE_IDENTITY_FILE",
        "BACKUP_REMOTE", "BACKUP_RCLONE_CONFIG", "BACKUP_REMOTE_RETENTION_DAYS", "BACKUP_REMOTE_MAX_COUNT",
    ]).union(Monitoring.keys)

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
        let settings = Settings(values: values)
        try parseBackupSettings(settings, into: &config)
        config.remote = try parseRemoteSettings(settings, local: config)
        try parsePostgresSettings(settings, into: &config.postgres)
        config.operators = try Operators.parse(values["PGBACKUP_OPERATORS"])
        config.monitoring = try Monitoring.parse(values)
        try parseEncryptionSettings(values, into: &config)
        var warnings: [String] = []
        for key in values.keys.sorted() where key.hasPrefix("BACKUP_") && !knownBackupKeys.contains(key) {
            warnings.append("unknown setting \(key) is ignored")
        }
        return (config, warnings)
    }

    private static func parseBackupSettings(_ settings: Settings, into config: inout Configuration) throws {
        if let dir = settings.value("BACKUP_DIR") {
            guard !dir.contains("\0"), !dir.contains("\n") else {
                throw BackupError.invalidConfiguration(variable: "BACKUP_DIR", value: dir, reason: "not a path")
            }
            // Relative, it would name another directory for each working directory: the CLI run from a checkout
            // and the services (started in /) would each see backups of their own.
            guard dir.hasPrefix("/") else {
                throw BackupError.invalidConfiguration(variable: "BACKUP_DIR", value: dir, reason: "not an absolute path")
            }
            config.backupDirectory = URL(fileURLWithPath: dir).standardizedFileURL.path
        }
        if let days = try settings.positive("BACKUP_RETENTION_DAYS", max: 36_500) { config.retentionDays = days }
        if let count = try settings.positive("BACKUP_MAX_COUNT", max: 1_000_000) { config.maxCount = count }
        if let hours = try settings.positive("BACKUP_INTERVAL_HOURS", max: 87_600) { config.intervalHours = hours }
        try parseCompressionSettings(settings, into: &config)
        try parseDrillSettings(settings, into: &config)
        if let jobs = try settings.positive("BACKUP_RESTORE_JOBS", max: 8) { config.restoreJobs = jobs }
        if let seconds = try settings.positive("BACKUP_LOCK_WAIT_TIMEOUT", max: 86_400) {
            config.lockWaitTimeoutSeconds = seconds
        }
        if let text = settings.value("BACKUP_ENABLED") {
            switch text.lowercased() {
            case "true", "1", "yes", "on": config.enabled = true
            case "false", "0", "no", "off": config.enabled = false
            default:
                throw BackupError.invalidConfiguration(
                    variable: "BACKUP_ENABLED", value: text, reason: "expected true/false/1/0/yes/no")
            }
        }
    }

    /// `BACKUP_COMPRESSION` first: the level's range and default are the codec's.
    private static func parseCompressionSettings(_ settings: Settings, into config: inout Configuration) throws {
        if let text = settings.value("BACKUP_COMPRESSION") {
            guard let codec = Codec(rawValue: text.lowercased()) else {
                throw BackupError.invalidConfiguration(
                    variable: "BACKUP_COMPRESSION", value: text, reason: "expected gzip or zstd")
            }
            config.codec = codec
        }
        let levels = config.codec.levels
        config.compressionLevel = config.codec.defaultLevel
        guard let text = settings.value("BACKUP_COMPRESSION_LEVEL") else { return }
        guard let level = Int(text) else {
            throw BackupError.invalidConfiguration(
                variable: "BACKUP_COMPRESSION_LEVEL", value: text, reason: "not a whole number")
        }
        guard levels.contains(level) else {
            // gzip's message is the one pgbackup always printed; zstd's names the codec, whose range differs.
            let range = "must be between \(levels.lowerBound) and \(levels.upperBound)"
            throw BackupError.invalidConfiguration(
                variable: "BACKUP_COMPRESSION_LEVEL", value: text,
                reason: config.codec == .gzip ? range : "\(range) for \(config.codec)")
        }
        config.compressionLevel = level
    }

    private static func parseDrillSettings(_ settings: Settings, into config: inout Configuration) throws {
        if let prefix = settings.value("BACKUP_DRILL_DATABASE") {
            // The prefix is checked as the scratch databases' names will be, timestamp included.
            if let reason = DatabaseName.problem(prefix + "_20261202_120000") {
                throw BackupError.invalidConfiguration(variable: "BACKUP_DRILL_DATABASE", value: prefix,
                                                       reason: reason + " once '_YYYYMMDD_HHMMSS' is appended")
            }
            config.drillDatabasePrefix = prefix
        }
        if let text = settings.value("BACKUP_DRILL_INTERVAL_HOURS") {
            guard let hours = Int(text), (0...87_600).contains(hours) else {
                throw BackupError.invalidConfiguration(variable: "BACKUP_DRILL_INTERVAL_HOURS", value: text,
                                                       reason: "must be a whole number between 0 (never) and 87600")
            }
            config.drillIntervalHours = hours
        }
        if let text = settings.value("BACKUP_KEEP_PREVIOUS_DATABASES") {
            guard let count = Int(text), (0...100).contains(count) else {
                throw BackupError.invalidConfiguration(variable: "BACKUP_KEEP_PREVIOUS_DATABASES", value: text,
                                                       reason: "must be a whole number between 0 (keep none) and 100")
            }
            config.keepPreviousDatabases = count
        }
    }

    private static func parsePostgresSettings(_ settings: Settings, into postgres: inout PostgresConnection) throws {
        if let host = settings.value("POSTGRES_HOST") { postgres.host = host }
        if let port = try settings.positive("POSTGRES_PORT", max: 65_535) { postgres.port = port }
        if let database = settings.value("POSTGRES_DB") {
            if let reason = DatabaseName.problem(database) {
                throw BackupError.invalidConfiguration(variable: "POSTGRES_DB", value: database, reason: reason)
            }
            postgres.database = database
        }
        if let user = settings.value("POSTGRES_USER") {
            guard !user.contains("\0"), !user.contains("\n") else {
                throw BackupError.invalidConfiguration(
                    variable: "POSTGRES_USER", value: user, reason: "contains a control character")
            }
            postgres.user = user
        }
        if let path = settings.value("POSTGRES_PASSWORD_FILE") {
            postgres.password = try readPasswordFile(path)
        } else if let password = settings.values["POSTGRES_PASSWORD"], !password.isEmpty {
            postgres.password = password
        }
    }

    /// `BACKUP_AGE_RECIPIENTS_FILE` and `BACKUP_AGE_IDENTITY_FILE`, each read and checked now: a recipients file
    /// that is missing, unreadable, empty, world-writable or has a bad line stops the program here, so a backup is
    /// never silently made in plaintext; an identity file must be 0600.
    private static func parseEncryptionSettings(_ values: [String: String], into config: inout Configuration) throws {
        func value(_ key: String) -> String? {
            guard let raw = values[key]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
            return raw
        }
        if let path = value("BACKUP_AGE_RECIPIENTS_FILE") {
            config.ageRecipients = try AgeRecipients.load(path: path)
        }
        if let path = value("BACKUP_AGE_IDENTITY_FILE") {
            config.ageIdentity = try AgeIdentity.check(path: path)
        }
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
