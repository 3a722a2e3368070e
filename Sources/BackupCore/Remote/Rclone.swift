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

    /// What an upload leaves to rclone and what pgbackup checks itself (see README, Benchmarks): every copy skips
    /// the look-up of an existing object of the same name (`--no-check-dest`: a dump's name is new, and a retry
    /// replaces what an earlier attempt left). A dump is checked by pgbackup on a listing afterwards (size and
    /// checksum), so rclone's own HEAD of it is skipped (`--s3-no-head`: it also spares a multipart upload the
    /// final HEAD some S3 servers reject, after which rclone would upload the whole dump again). A sidecar
    /// follows its dump in the same bucket, so its copy skips the bucket check (`--s3-no-check-bucket`) and keeps
    /// rclone's HEAD: rclone's size and MD5 check after the copy is the sidecar's check.
    enum Upload { case dump, sidecar }

    /// Uploads a local file under `object`, streamed by rclone from the file (multipart when large).
    func copyTo(localPath: String, object: String, as kind: Upload) -> Command {
        let skips = kind == .dump ? ["--no-check-dest", "--s3-no-head"] : ["--no-check-dest", "--s3-no-check-bucket"]
        return command(common + skips + ["--stats", "1s", "--stats-log-level", "NOTICE", "copyto", localPath,
                                         settings.objectPath(object)])
    }

    /// The remote directory itself: the trailing slash spares S3 the look-up of an object named like it.
    private var directory: String { settings.spec + "/" }

    /// The top of the remote directory as JSON: names and sizes, and with `hashes`, MD5 and SHA-256 where the
    /// backend keeps them. No modification times: on S3 each costs a HEAD per object, and none is used.
    func list(hashes: Bool) -> Command {
        command(common + ["lsjson", "--files-only", "--no-mimetype", "--no-modtime"]
            + (hashes ? ["--hash-type", "md5", "--hash-type", "sha256"] : []) + [directory])
    }

    /// One object's size and hashes.
    func stat(_ object: String) -> Command {
        command(common + ["lsjson", "--stat", "--no-mimetype", "--no-modtime", "--hash-type", "md5", "--hash-type", "sha256",
                          settings.objectPath(object)])
    }

    /// An object's bytes on stdout.
    func cat(_ object: String) -> Command { command(common + ["cat", settings.objectPath(object)]) }

    func deleteFile(_ object: String) -> Command { command(common + ["deletefile", settings.objectPath(object)]) }

    /// Deletes, in one call, the objects at the top of the remote directory named one a line in `listPath`
    /// (taken verbatim: `--files-from-raw`); a name that is not there is no error. An empty list deletes nothing.
    func deleteFiles(listedIn listPath: String) -> Command {
        command(common + ["delete", "--files-from-raw", listPath, directory])
    }
}
