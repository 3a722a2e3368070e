import Foundation

/// Where off-site copies go and how long they are kept there (`BACKUP_REMOTE` and friends, read in
/// `Configuration+Remote`). Present only when `BACKUP_REMOTE` is set.
public struct RemoteSettings: Sendable, Equatable {
    /// The rclone remote's name, before the colon of `BACKUP_REMOTE`.
    public var remoteName: String
    /// `bucket/prefix` (or a path, for rclone's `local` type), without a trailing slash.
    public var path: String
    /// The rclone config file holding the credentials (checked 0600 and owned by this user at start-up).
    public var rcloneConfig: String
    public var retentionDays: Int
    public var maxCount: Int

    public static let defaultRcloneConfig = "/etc/pgbackup/rclone.conf"

    public init(remoteName: String, path: String, rcloneConfig: String = defaultRcloneConfig,
                retentionDays: Int = 7, maxCount: Int = 30) {
        self.remoteName = remoteName
        self.path = path
        self.rcloneConfig = rcloneConfig
        self.retentionDays = retentionDays
        self.maxCount = maxCount
    }

    /// `remote:bucket/prefix`, as the operator wrote it.
    public var spec: String { "\(remoteName):\(path)" }

    /// The rclone path of one object (a dump or a sidecar) in the remote directory.
    func objectPath(_ object: String) -> String { "\(spec)/\(object)" }

    /// Splits and checks `remote:bucket/prefix`; the reason it is refused, for the configuration error.
    static func parseSpec(_ text: String) throws -> (String, String) {
        func refuse(_ reason: String) -> BackupError {
            .invalidConfiguration(variable: "BACKUP_REMOTE", value: text, reason: reason)
        }
        guard let colon = text.firstIndex(of: ":") else {
            throw refuse("expected <remote>:<bucket>/<prefix>")
        }
        let name = String(text[..<colon])
        var path = String(text[text.index(after: colon)...])
        let nameBytes = name.unicodeScalars
        guard !name.isEmpty, !name.hasPrefix("-"),
              nameBytes.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "_-.".unicodeScalars.contains($0)) })
        else { throw refuse("the remote name must be letters, digits, '_', '-' or '.'") }
        while path.hasSuffix("/") { path.removeLast() }
        guard !path.isEmpty else { throw refuse("no bucket or path after the remote name") }
        guard !path.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else {
            throw refuse("contains a control character")
        }
        let components = (path.hasPrefix("/") ? String(path.dropFirst()) : path).split(separator: "/", omittingEmptySubsequences: false)
        guard !components.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
            throw refuse("the path has an empty, '.' or '..' component")
        }
        return (name, path)
    }

    /// Refuses a config file that others could read or that another user owns: it holds the credentials.
    static func checkConfigFile(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return "cannot read the file (\(Errno.message(errno)))" }
        guard (info.st_mode & S_IFMT) == S_IFREG else { return "not a regular file" }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0, info.st_uid == geteuid() else {
            return "must be mode 0600 and owned by the service user (uid \(geteuid())), is "
                + String(format: "%04o", mode) + " owned by uid \(info.st_uid): it holds the remote's credentials"
        }
        guard access(path, R_OK) == 0 else { return "cannot read the file (\(Errno.message(errno)))" }
        return nil
    }
}
