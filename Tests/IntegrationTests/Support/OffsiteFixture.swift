import Foundation
import TestSupport
import Testing

/// An off-site remote for a CLI test: moto's S3 API (authentication on) or rclone's `local` type, the rclone config
/// file (0600, owned by us) and the settings that point pgbackup at it.
final class OffsiteFixture: @unchecked Sendable {
    enum Kind { case s3, local }

    let kind: Kind
    let moto: MotoServer?
    let configFile: URL
    /// A config that always reaches the remote, for the test's own look at it (pgbackup's may be broken on purpose).
    let truthFile: URL
    /// `BACKUP_REMOTE`.
    let remote: String
    private let directory: URL

    init(_ kind: Kind, in scratch: TemporaryDirectory) throws {
        self.kind = kind
        directory = scratch.appending("remote side")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        configFile = directory.appendingPathComponent("rclone.conf")
        truthFile = directory.appendingPathComponent("truth.conf")
        switch kind {
        case .s3:
            let server = try MotoServer()
            moto = server
            remote = "offsite:\(server.bucket)/prod/db"
            try writeConfig(server.rcloneConfig())
            try writeConfig(server.rcloneConfig(), to: truthFile)
        case .local:
            moto = nil
            let store = directory.appendingPathComponent("store")
            try FileManager.default.createDirectory(at: store, withIntermediateDirectories: true)
            remote = "offsite:\(store.path)/prefix"
            try writeConfig("[offsite]\ntype = local\n")
            try writeConfig("[offsite]\ntype = local\n", to: truthFile)
        }
    }

    func stop() { moto?.stop() }

    /// The S3 secret (empty for the local type): it must never appear in argv, output or state.
    var secret: String { moto?.secret ?? "" }

    var environment: [String: String] { ["BACKUP_REMOTE": remote, "BACKUP_RCLONE_CONFIG": configFile.path] }

    /// Writes the config file, 0600 (as the service user would keep it).
    func writeConfig(_ text: String, mode: mode_t = 0o600, to file: URL? = nil) throws {
        let file = file ?? configFile
        try Data(text.utf8).write(to: file)
        chmod(file.path, mode)
    }

    /// Points the config at a port nobody listens on: the remote is down, as seen from here (moto keeps its state).
    func breakEndpoint() throws {
        guard let moto else { return }
        let dead = try LoopbackPort.free()
        try writeConfig(moto.rcloneConfig().replacingOccurrences(of: moto.endpoint, with: "http://127.0.0.1:\(dead)"))
    }

    func repairEndpoint() throws {
        if let moto { try writeConfig(moto.rcloneConfig()) }
    }

    func names() throws -> [String] { try RcloneTool.names(remote, config: truthFile.path) }

    func object(_ name: String) throws -> Data { try RcloneTool.cat("\(remote)/\(name)", config: truthFile.path) }

    func replace(_ name: String, with bytes: Data, scratch: TemporaryDirectory) throws {
        let file = scratch.appending("replacement.bin")
        try bytes.write(to: file)
        try RcloneTool.copyTo(file.path, "\(remote)/\(name)", config: truthFile.path)
    }

    func delete(_ name: String) throws { try RcloneTool.delete("\(remote)/\(name)", config: truthFile.path) }

    /// The SHA-256 of a remote object, read back through rclone.
    func sha256(_ name: String, scratch: TemporaryDirectory) throws -> String {
        let file = scratch.appending("fetched.bin")
        try object(name).write(to: file)
        return try BackupFiles.sha256(file)
    }
}
