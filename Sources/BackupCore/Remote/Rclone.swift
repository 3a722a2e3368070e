import Foundation

/// The rclone commands pgbackup runs, as values. Credentials stay in the config file (`--config FILE`): never in
/// argv or the environment. rclone gets an environment of its own (PATH and HOME only): the parent's may hold
/// secrets, and `AWS_CA_BUNDLE` there breaks rclone 1.60's S3 backend (see PITFALLS).
struct Rclone: Sendable {
    let settings: RemoteSettings
    let environment: [String: String]

    init(settings: RemoteSettings, parentEnvironment: [String: String]) {
        self.settings = settings
        self.environment = ["PATH": parentEnvironment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin",
                            "HOME": parentEnvironment["HOME"] ?? "/nonexistent"]
    }

    /// Fails fast on a dead endpoint (two attempts, short timeouts), so an outage pends the upload in seconds,
    /// not minutes; a stats line every second on stderr feeds the upload's progress.
    private var common: [String] {
        ["--config", settings.rcloneConfig, "--retries", "2", "--low-level-retries", "2",
         "--contimeout", "10s", "--timeout", "60s", "--use-json-log", "--log-level", "NOTICE"]
    }

    private func command(_ arguments: [String]) -> Command {
        Command(executable: "rclone", arguments: arguments, environment: environment)
    }

    /// Uploads a local file under `object`, streamed by rclone from the file (multipart when large).
    func copyTo(localPath: String, object: String) -> Command {
        command(common + ["--stats", "1s", "--stats-log-level", "NOTICE", "copyto", localPath,
                          settings.objectPath(object)])
    }

    /// The top of the remote directory as JSON: names and sizes, and with `hashes`, MD5 and SHA-256 where the
    /// backend keeps them.
    func list(hashes: Bool) -> Command {
        command(common + ["lsjson", "--files-only", "--no-mimetype"]
            + (hashes ? ["--hash-type", "md5", "--hash-type", "sha256"] : []) + [settings.spec])
    }

    /// One object's size and hashes.
    func stat(_ object: String) -> Command {
        command(common + ["lsjson", "--stat", "--no-mimetype", "--hash-type", "md5", "--hash-type", "sha256",
                          settings.objectPath(object)])
    }

    /// An object's bytes on stdout.
    func cat(_ object: String) -> Command { command(common + ["cat", settings.objectPath(object)]) }

    func deleteFile(_ object: String) -> Command { command(common + ["deletefile", settings.objectPath(object)]) }
}
