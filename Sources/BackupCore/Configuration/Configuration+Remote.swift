import Foundation

extension Configuration {
    /// The off-site settings, read only when `BACKUP_REMOTE` is set (the config file is then checked too). The
    /// remote's retention defaults to the local values.
    static func parseRemoteSettings(_ settings: Settings, local: Configuration) throws -> RemoteSettings? {
        guard let spec = settings.value("BACKUP_REMOTE") else { return nil }
        let (name, path) = try RemoteSettings.parseSpec(spec)
        var remote = RemoteSettings(remoteName: name, path: path, retentionDays: local.retentionDays,
                                    maxCount: local.maxCount)
        if let file = settings.value("BACKUP_RCLONE_CONFIG") {
            remote.rcloneConfig = URL(fileURLWithPath: file).standardizedFileURL.path
        }
        if let problem = RemoteSettings.checkConfigFile(remote.rcloneConfig) {
            throw BackupError.invalidConfiguration(variable: "BACKUP_RCLONE_CONFIG", value: remote.rcloneConfig,
                                                   reason: problem)
        }
        if let days = try settings.positive("BACKUP_REMOTE_RETENTION_DAYS", max: 36_500) { remote.retentionDays = days }
        if let count = try settings.positive("BACKUP_REMOTE_MAX_COUNT", max: 1_000_000) { remote.maxCount = count }
        return remote
    }
}
