import Foundation
import TestSupport
import Testing

@testable import BackupCore

@Suite("Configuration: off-site settings")
struct RemoteSettingsTests {
    static func configFile(_ dir: TemporaryDirectory, mode: mode_t = 0o600) throws -> String {
        let path = try dir.write("rclone.conf", "[offsite]\ntype = local\n")
        chmod(path, mode)
        return path
    }

    @Test("unset BACKUP_REMOTE means off, whatever BACKUP_RCLONE_CONFIG says (it is not even checked)")
    func offByDefault() throws {
        let (config, warnings) = try Configuration.parse(["BACKUP_RCLONE_CONFIG": "/nonexistent/rclone.conf"])
        #expect(config.remote == nil)
        #expect(warnings.isEmpty)
    }

    @Test("every off-site variable is read; remote retention defaults to the local values")
    func everyVariable() throws {
        let dir = try TemporaryDirectory(prefix: "remote-settings")
        defer { dir.remove() }
        let file = try Self.configFile(dir)
        let (defaults, _) = try Configuration.parse([
            "BACKUP_REMOTE": "offsite:bucket/prod/db/", "BACKUP_RCLONE_CONFIG": file,
            "BACKUP_RETENTION_DAYS": "14", "BACKUP_MAX_COUNT": "5",
        ])
        #expect(defaults.remote == RemoteSettings(remoteName: "offsite", path: "bucket/prod/db", rcloneConfig: file,
                                                  retentionDays: 14, maxCount: 5))
        #expect(defaults.remote?.spec == "offsite:bucket/prod/db")
        let (own, warnings) = try Configuration.parse([
            "BACKUP_REMOTE": "s3.eu-1:b", "BACKUP_RCLONE_CONFIG": file,
            "BACKUP_REMOTE_RETENTION_DAYS": "90", "BACKUP_REMOTE_MAX_COUNT": "100",
        ])
        #expect(own.remote?.retentionDays == 90)
        #expect(own.remote?.maxCount == 100)
        #expect(own.remote?.remoteName == "s3.eu-1")
        #expect(warnings.isEmpty)
    }

    @Test("bad BACKUP_REMOTE values are refused with the reason", arguments: [
        ("bucket/prefix", "expected <remote>:<bucket>/<prefix>"),
        (":bucket", "the remote name must be letters, digits, '_', '-' or '.'"),
        ("-x:bucket", "the remote name must be letters, digits, '_', '-' or '.'"),
        ("my remote:bucket", "the remote name must be letters, digits, '_', '-' or '.'"),
        ("offsite:", "no bucket or path after the remote name"),
        ("offsite:bucket//x", "the path has an empty, '.' or '..' component"),
        ("offsite:bucket/../x", "the path has an empty, '.' or '..' component"),
        ("offsite:bucket/\u{1}", "contains a control character"),
    ])
    func badRemote(value: String, reason: String) throws {
        #expect(throws: BackupError.invalidConfiguration(variable: "BACKUP_REMOTE", value: value, reason: reason)) {
            try Configuration.parse(["BACKUP_REMOTE": value])
        }
    }

    @Test("a config file others can read, or that is missing, is refused naming the file", arguments: [0o644, 0o640, 0o602, 0o660])
    func configFileMode(mode: Int) throws {
        let dir = try TemporaryDirectory(prefix: "remote-settings")
        defer { dir.remove() }
        let file = try Self.configFile(dir, mode: mode_t(mode))
        do {
            _ = try Configuration.parse(["BACKUP_REMOTE": "offsite:bucket", "BACKUP_RCLONE_CONFIG": file])
            Issue.record("accepted a config file of mode \(String(mode, radix: 8))")
        } catch let BackupError.invalidConfiguration(variable, value, reason) {
            #expect(variable == "BACKUP_RCLONE_CONFIG")
            #expect(value == file)
            #expect(reason.hasPrefix("must be mode 0600 and owned by the service user"), "\(reason)")
            #expect(reason.contains(String(format: "%04o", mode)))
        }
        #expect(throws: BackupError.self) {
            try Configuration.parse(["BACKUP_REMOTE": "offsite:bucket", "BACKUP_RCLONE_CONFIG": dir.file("missing.conf")])
        }
    }

    @Test("bad remote retention values are refused")
    func badRetention() throws {
        let dir = try TemporaryDirectory(prefix: "remote-settings")
        defer { dir.remove() }
        let file = try Self.configFile(dir)
        #expect(throws: BackupError.invalidConfiguration(variable: "BACKUP_REMOTE_MAX_COUNT", value: "0",
                                                         reason: "must be between 1 and 1000000")) {
            try Configuration.parse(["BACKUP_REMOTE": "o:b", "BACKUP_RCLONE_CONFIG": file, "BACKUP_REMOTE_MAX_COUNT": "0"])
        }
    }
}
