import Foundation
import TestSupport
import Testing

@testable import BackupCore

@Suite("Configuration")
struct ConfigurationTests {
    @Test("an empty environment gives the documented defaults and no warnings")
    func defaults() throws {
        let (config, warnings) = try Configuration.parse([:])
        #expect(config.backupDirectory == "/var/lib/pgbackup/backups")
        #expect(config.retentionDays == 7)
        #expect(config.maxCount == 30)
        #expect(config.intervalHours == 24)
        #expect(config.enabled == true)
        #expect(config.codec == .gzip)
        #expect(config.compressionLevel == 6)
        #expect(config.lockWaitTimeoutSeconds == 300)
        #expect(config.restoreJobs == min(8, ProcessInfo.processInfo.activeProcessorCount))
        #expect(config.postgres == PostgresConnection(host: "localhost", port: 5432, database: "postgres", user: "postgres"))
        #expect(config.postgres.password == nil)
        #expect(warnings.isEmpty)
        #expect(config == Configuration())
    }

    @Test("every variable is read")
    func everyVariable() throws {
        let (config, warnings) = try Configuration.parse([
            "BACKUP_DIR": "/srv/backups",
            "BACKUP_RETENTION_DAYS": "14",
            "BACKUP_MAX_COUNT": "5",
            "BACKUP_INTERVAL_HOURS": "6",
            "BACKUP_ENABLED": "false",
            "BACKUP_COMPRESSION_LEVEL": "9",
            "BACKUP_LOCK_WAIT_TIMEOUT": "60",
            "BACKUP_RESTORE_JOBS": "3",
            "POSTGRES_HOST": "/run/postgresql",
            "POSTGRES_PORT": "5433",
            "POSTGRES_DB": "unicorn_db",
            "POSTGRES_USER": "backup",
            "POSTGRES_PASSWORD": "s3cret with spaces ",
        ])
        #expect(config.backupDirectory == "/srv/backups")
        #expect(config.retentionDays == 14)
        #expect(config.maxCount == 5)
        #expect(config.intervalHours == 6)
        #expect(config.enabled == false)
        #expect(config.compressionLevel == 9)
        #expect(config.lockWaitTimeoutSeconds == 60)
        #expect(config.restoreJobs == 3)
        #expect(config.postgres.host == "/run/postgresql")
        #expect(config.postgres.port == 5433)
        #expect(config.postgres.database == "unicorn_db")
        #expect(config.postgres.user == "backup")
        #expect(config.postgres.password == "s3cret with spaces ")
        #expect(warnings.isEmpty)
    }

    @Test("BACKUP_DIR is normalised to an absolute path")
    func backupDirNormalised() throws {
        #expect(try Configuration.parse(["BACKUP_DIR": "/srv/x/../backups/"]).0.backupDirectory == "/srv/backups")
        #expect(try Configuration.parse(["BACKUP_DIR": "  /srv/backups  "]).0.backupDirectory == "/srv/backups")
    }

    @Test("surrounding blanks are ignored and an empty value means the default")
    func blanksAndEmpty() throws {
        let (config, _) = try Configuration.parse(["BACKUP_MAX_COUNT": " 12\t", "BACKUP_RETENTION_DAYS": "", "POSTGRES_DB": "  "])
        #expect(config.maxCount == 12)
        #expect(config.retentionDays == 7)
        #expect(config.postgres.database == "postgres")
    }

    @Test(
        "booleans accept true/false/1/0/yes/no in any case",
        arguments: [("true", true), ("TRUE", true), ("1", true), ("yes", true), ("Yes", true),
                    ("false", false), ("False", false), ("0", false), ("no", false), ("NO", false)])
    func booleans(text: String, expected: Bool) throws {
        #expect(try Configuration.parse(["BACKUP_ENABLED": text]).0.enabled == expected)
    }

    struct BadValue: Sendable, CustomTestStringConvertible {
        let variable: String
        let value: String
        let reason: String
        var testDescription: String { "\(variable)=\(value)" }
    }

    static let badValues: [BadValue] = [
        BadValue(variable: "BACKUP_RETENTION_DAYS", value: "-1", reason: "must be between 1 and 36500"),
        BadValue(variable: "BACKUP_RETENTION_DAYS", value: "0", reason: "must be between 1 and 36500"),
        BadValue(variable: "BACKUP_RETENTION_DAYS", value: "seven", reason: "not a whole number"),
        BadValue(variable: "BACKUP_RETENTION_DAYS", value: "7.5", reason: "not a whole number"),
        BadValue(variable: "BACKUP_MAX_COUNT", value: "0", reason: "must be between 1 and 1000000"),
        BadValue(variable: "BACKUP_MAX_COUNT", value: "-30", reason: "must be between 1 and 1000000"),
        BadValue(variable: "BACKUP_MAX_COUNT", value: "30x", reason: "not a whole number"),
        BadValue(variable: "BACKUP_MAX_COUNT", value: "99999999999999999999", reason: "not a whole number"),
        BadValue(variable: "BACKUP_INTERVAL_HOURS", value: "0", reason: "must be between 1 and 87600"),
        BadValue(variable: "BACKUP_INTERVAL_HOURS", value: "1h", reason: "not a whole number"),
        BadValue(variable: "BACKUP_COMPRESSION_LEVEL", value: "10", reason: "must be between 1 and 9"),
        BadValue(variable: "BACKUP_COMPRESSION_LEVEL", value: "0", reason: "must be between 1 and 9"),
        BadValue(variable: "BACKUP_LOCK_WAIT_TIMEOUT", value: "0", reason: "must be between 1 and 86400"),
        BadValue(variable: "BACKUP_RESTORE_JOBS", value: "9", reason: "must be between 1 and 8"),
        BadValue(variable: "BACKUP_RESTORE_JOBS", value: "0", reason: "must be between 1 and 8"),
        BadValue(variable: "POSTGRES_PORT", value: "70000", reason: "must be between 1 and 65535"),
        BadValue(variable: "POSTGRES_PORT", value: "0", reason: "must be between 1 and 65535"),
        BadValue(variable: "POSTGRES_PORT", value: "postgres", reason: "not a whole number"),
        BadValue(variable: "BACKUP_ENABLED", value: "maybe", reason: "expected true/false/1/0/yes/no"),
        BadValue(variable: "BACKUP_ENABLED", value: "2", reason: "expected true/false/1/0/yes/no"),
        BadValue(variable: "POSTGRES_DB", value: "-h evil",
                 reason: "a database name may hold only letters, digits, '_', '-', '$' and '.' (at most 63, not starting with '-')"),
        BadValue(variable: "POSTGRES_DB", value: "host=evil dbname=x",
                 reason: "a database name may hold only letters, digits, '_', '-', '$' and '.' (at most 63, not starting with '-')"),
        BadValue(variable: "POSTGRES_USER", value: "a\nb", reason: "contains a control character"),
        BadValue(variable: "BACKUP_DIR", value: "/srv/a\nb", reason: "not a path"),
        BadValue(variable: "BACKUP_DIR", value: "backups", reason: "not an absolute path"),
        BadValue(variable: "BACKUP_DIR", value: "./backups", reason: "not an absolute path"),
    ]

    @Test("a bad value is an error naming the variable and the value", arguments: badValues)
    func badValueNamed(_ bad: BadValue) {
        let expected = BackupError.invalidConfiguration(variable: bad.variable, value: bad.value, reason: bad.reason)
        #expect(throws: expected) { try Configuration.parse([bad.variable: bad.value]) }
        #expect(expected.description.contains(bad.variable))
        #expect(expected.description.contains("'\(bad.value)'"))
    }

    @Test("the message reads as one sentence with the variable and the value")
    func badValueMessage() {
        do {
            _ = try Configuration.parse(["BACKUP_RETENTION_DAYS": "-1"])
            Issue.record("a negative retention was accepted")
        } catch let error as BackupError {
            #expect(error.description == "invalid value '-1' for BACKUP_RETENTION_DAYS: must be between 1 and 36500")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    // MARK: compression

    struct Compression: Sendable, CustomTestStringConvertible {
        let codec: String?
        let level: String?
        var testDescription: String {
            "BACKUP_COMPRESSION=\(codec ?? "(unset)") BACKUP_COMPRESSION_LEVEL=\(level ?? "(unset)")"
        }
        var values: [String: String] {
            var values: [String: String] = [:]
            if let codec { values["BACKUP_COMPRESSION"] = codec }
            if let level { values["BACKUP_COMPRESSION_LEVEL"] = level }
            return values
        }
    }

    @Test("BACKUP_COMPRESSION picks the codec and the level's default; the level is read within the codec's range",
          arguments: [
              (Compression(codec: nil, level: nil), Codec.gzip, 6),
              (Compression(codec: "gzip", level: nil), .gzip, 6),
              (Compression(codec: "zstd", level: nil), .zstd, 3),
              (Compression(codec: "ZSTD", level: nil), .zstd, 3),
              (Compression(codec: " Gzip ", level: nil), .gzip, 6),
              (Compression(codec: "", level: ""), .gzip, 6),
              (Compression(codec: nil, level: "1"), .gzip, 1),
              (Compression(codec: "gzip", level: "9"), .gzip, 9),
              (Compression(codec: "zstd", level: "1"), .zstd, 1),
              (Compression(codec: "zstd", level: "9"), .zstd, 9),
              (Compression(codec: "zstd", level: "12"), .zstd, 12),
              (Compression(codec: "zstd", level: " 19 "), .zstd, 19),
          ])
    func compressionRead(_ setting: Compression, codec: Codec, level: Int) throws {
        let (config, warnings) = try Configuration.parse(setting.values)
        #expect(config.codec == codec)
        #expect(config.compressionLevel == level)
        #expect(warnings.isEmpty, "BACKUP_COMPRESSION is a known setting")
    }

    @Test("a bad codec or a level outside the codec's range is an error naming the variable and the value",
          arguments: [
              (Compression(codec: "lz4", level: nil), "BACKUP_COMPRESSION", "lz4", "expected gzip or zstd"),
              (Compression(codec: "gz", level: nil), "BACKUP_COMPRESSION", "gz", "expected gzip or zstd"),
              (Compression(codec: "zstd -19", level: nil), "BACKUP_COMPRESSION", "zstd -19", "expected gzip or zstd"),
              (Compression(codec: "none", level: nil), "BACKUP_COMPRESSION", "none", "expected gzip or zstd"),
              (Compression(codec: "lz4", level: "22"), "BACKUP_COMPRESSION", "lz4", "expected gzip or zstd"),
              (Compression(codec: "zstd", level: "22"), "BACKUP_COMPRESSION_LEVEL", "22", "must be between 1 and 19 for zstd"),
              (Compression(codec: "zstd", level: "20"), "BACKUP_COMPRESSION_LEVEL", "20", "must be between 1 and 19 for zstd"),
              (Compression(codec: "zstd", level: "0"), "BACKUP_COMPRESSION_LEVEL", "0", "must be between 1 and 19 for zstd"),
              (Compression(codec: "zstd", level: "-3"), "BACKUP_COMPRESSION_LEVEL", "-3", "must be between 1 and 19 for zstd"),
              (Compression(codec: "zstd", level: "three"), "BACKUP_COMPRESSION_LEVEL", "three", "not a whole number"),
              (Compression(codec: "gzip", level: "12"), "BACKUP_COMPRESSION_LEVEL", "12", "must be between 1 and 9"),
              (Compression(codec: nil, level: "12"), "BACKUP_COMPRESSION_LEVEL", "12", "must be between 1 and 9"),
              (Compression(codec: nil, level: "19"), "BACKUP_COMPRESSION_LEVEL", "19", "must be between 1 and 9"),
          ])
    func compressionRefused(_ setting: Compression, variable: String, value: String, reason: String) {
        let expected = BackupError.invalidConfiguration(variable: variable, value: value, reason: reason)
        #expect(throws: expected) { try Configuration.parse(setting.values) }
        #expect(expected.description == "invalid value '\(value)' for \(variable): \(reason)")
    }

    @Test("a codec set in the env file and a level set in the environment are read together")
    func compressionFromEnvFile() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("pgbackup.env", "BACKUP_COMPRESSION=zstd\n")
        let (config, _) = try Configuration.load(environment: ["BACKUP_COMPRESSION_LEVEL": "15"], envFile: path)
        #expect(config.codec == .zstd)
        #expect(config.compressionLevel == 15)
        #expect(throws: BackupError.invalidConfiguration(
            variable: "BACKUP_COMPRESSION_LEVEL", value: "15", reason: "must be between 1 and 9")) {
            try Configuration.load(environment: ["BACKUP_COMPRESSION_LEVEL": "15", "BACKUP_COMPRESSION": "gzip"],
                                   envFile: path)
        }
    }

    @Test("a configuration built in code takes its codec's default level")
    func compressionInitialiser() {
        #expect(Configuration(codec: .zstd).compressionLevel == 3)
        #expect(Configuration(codec: .zstd, compressionLevel: 19).compressionLevel == 19)
        #expect(Configuration().compressionLevel == 6)
    }

    @Test("unknown BACKUP_ keys give one warning each, sorted; other keys are ignored")
    func unknownKeysWarn() throws {
        let (_, warnings) = try Configuration.parse([
            "BACKUP_RETENTION": "3", "BACKUP_COUNT_MAX": "1", "HOME": "/root", "POSTGRES_SSL": "x",
        ])
        #expect(warnings == ["unknown setting BACKUP_COUNT_MAX is ignored", "unknown setting BACKUP_RETENTION is ignored"])
    }

    // MARK: password

    @Test("POSTGRES_PASSWORD_FILE: only the first line is the password, and it wins over POSTGRES_PASSWORD")
    func passwordFileFirstLine() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("pw", "correct horse\nsecond line\n")
        let (config, _) = try Configuration.parse(["POSTGRES_PASSWORD_FILE": path, "POSTGRES_PASSWORD": "other"])
        #expect(config.postgres.password == "correct horse")
    }

    @Test("POSTGRES_PASSWORD_FILE without a trailing newline")
    func passwordFileNoNewline() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("pw", " spaced pass ")
        #expect(try Configuration.parse(["POSTGRES_PASSWORD_FILE": path]).0.postgres.password == " spaced pass ")
    }

    @Test("POSTGRES_PASSWORD_FILE written with CRLF line ends")
    func passwordFileCRLF() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("pw", "secret\r\nsecond\r\n")
        #expect(try Configuration.parse(["POSTGRES_PASSWORD_FILE": path]).0.postgres.password == "secret")
    }

    @Test("a missing password file is an error naming the variable and the path, not a password")
    func passwordFileMissing() {
        #expect(throws: BackupError.invalidConfiguration(
            variable: "POSTGRES_PASSWORD_FILE", value: "/nonexistent/pw", reason: "cannot read the file")) {
            try Configuration.parse(["POSTGRES_PASSWORD_FILE": "/nonexistent/pw", "POSTGRES_PASSWORD": "hunter2"])
        }
    }

    @Test("an empty password file is an error")
    func passwordFileEmpty() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("pw", "\nsecond\n")
        #expect(throws: BackupError.invalidConfiguration(variable: "POSTGRES_PASSWORD_FILE", value: path, reason: "the file is empty")) {
            try Configuration.parse(["POSTGRES_PASSWORD_FILE": path])
        }
    }

    // MARK: load

    @Test("load reads an explicit env file; the real environment wins over it")
    func loadEnvironmentWins() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("pgbackup.env", """
            BACKUP_RETENTION_DAYS=3
            BACKUP_MAX_COUNT=4
            POSTGRES_DB=from_file
            """)
        let (config, warnings) = try Configuration.load(
            environment: ["BACKUP_MAX_COUNT": "40", "POSTGRES_DB": "from_env"], envFile: path)
        #expect(config.retentionDays == 3)
        #expect(config.maxCount == 40)
        #expect(config.postgres.database == "from_env")
        #expect(warnings.isEmpty)
    }

    @Test("load finds the file through PGBACKUP_ENV_FILE")
    func loadFromEnvironmentVariable() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("pgbackup.env", "export BACKUP_INTERVAL_HOURS=12\nBACKUP_SURPRISE=1\n")
        let (config, warnings) = try Configuration.load(environment: ["PGBACKUP_ENV_FILE": path])
        #expect(config.intervalHours == 12)
        #expect(warnings == ["unknown setting BACKUP_SURPRISE is ignored"])
    }

    @Test("every BACKUP_* setting the configuration reads is known, so none is reported as ignored")
    func everyReadSettingIsKnown() throws {
        let directory = try SourceShapeTests.sourcesDirectory() + "/BackupCore/Configuration"
        let pattern = try NSRegularExpression(pattern: #""(BACKUP_[A-Z_]+)""#)
        var read: Set<String> = []
        for path in try SourceShapeTests.swiftFiles(under: directory) {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                read.insert((text as NSString).substring(with: match.range(at: 1)))
            }
        }
        #expect(read.count >= 20, "the scan found \(read.count) settings")
        #expect(read.subtracting(Configuration.knownBackupKeys).sorted() == [])
        let (config, warnings) = try Configuration.parse(["BACKUP_KEEP_PREVIOUS_DATABASES": "3"])
        #expect(config.keepPreviousDatabases == 3)
        #expect(warnings.isEmpty)
    }

    @Test("an explicit env file that cannot be read is an error naming it")
    func loadMissingFile() {
        #expect(throws: BackupError.invalidConfiguration(
            variable: "env file", value: "/nonexistent/pgbackup.env", reason: "cannot read the file")) {
            try Configuration.load(environment: [:], envFile: "/nonexistent/pgbackup.env")
        }
    }

    @Test("a bad value in the env file is reported like one from the environment")
    func loadBadValueInFile() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("pgbackup.env", "BACKUP_COMPRESSION_LEVEL=10\n")
        #expect(throws: BackupError.invalidConfiguration(
            variable: "BACKUP_COMPRESSION_LEVEL", value: "10", reason: "must be between 1 and 9")) {
            try Configuration.load(environment: [:], envFile: path)
        }
    }

    @Test("the password file named in the env file is read")
    func loadPasswordFileFromEnvFile() throws {
        let dir = try TemporaryDirectory()
        let pw = try dir.write("pw", "from-file\n")
        let path = try dir.write("pgbackup.env", "POSTGRES_PASSWORD_FILE='\(pw)'\n")
        #expect(try Configuration.load(environment: [:], envFile: path).0.postgres.password == "from-file")
    }
}
