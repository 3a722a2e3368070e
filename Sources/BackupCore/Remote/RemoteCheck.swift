import Crypto
import Foundation

/// What "on the remote" means: the object is there, its size is the local file's, and a checksum both sides
/// know matches — SHA-256 where the backend keeps one (rclone's `local` type) against the sidecar's, else MD5
/// (S3's ETag, or the `md5chksum` rclone stores with a multipart upload) against the local file's.
struct RemoteCheck {
    let remote: RcloneRemote
    /// The local dump's MD5, when it is being computed already, on a thread of its own started before the
    /// upload, so the hashing overlaps rclone's copy instead of following it (S3 checks need it; backends with
    /// SHA-256 never wait for it).
    var localDumpMD5: BackgroundResult<String>?

    /// Checks the dump as `listing` (the remote directory, listed with hashes after its copy) shows it.
    func dump(_ metadata: BackupMetadata, localPath: String, in listing: [RemoteObject]) throws {
        guard let object = listing.first(where: { $0.name == metadata.filename }) else {
            throw BackupError.remoteFailed("\(metadata.filename) is not on the remote after its upload")
        }
        let localSize = FileSystem.regularFileSize(localPath) ?? metadata.sizeBytes
        guard object.size == localSize else {
            throw BackupError.remoteFailed("\(metadata.filename) on the remote has \(object.size) bytes, the local file \(localSize)")
        }
        if let remoteSHA = object.sha256, let localSHA = metadata.sha256 {
            guard remoteSHA == localSHA else {
                throw BackupError.remoteFailed("\(metadata.filename) on the remote has SHA-256 \(remoteSHA), the backup \(localSHA)")
            }
            return
        }
        try matchMD5(object, localPath: localPath, localMD5: localDumpMD5)
    }

    func sidecar(_ name: String, localPath: String) throws {
        let object = try present(name)
        guard object.size == FileSystem.regularFileSize(localPath) else {
            throw BackupError.remoteFailed("\(name) on the remote has \(object.size) bytes, not the local file's")
        }
        try matchMD5(object, localPath: localPath)
    }

    private func present(_ name: String) throws -> RemoteObject {
        guard let object = try remote.stat(name) else {
            throw BackupError.remoteFailed("\(name) is not on the remote after its upload")
        }
        return object
    }

    private func matchMD5(_ object: RemoteObject, localPath: String, localMD5 computing: BackgroundResult<String>? = nil) throws {
        guard let remoteMD5 = object.md5 else {
            throw BackupError.remoteFailed("the remote keeps neither MD5 nor SHA-256 of \(object.name), so the upload cannot be checked")
        }
        let localMD5 = try computing?.value() ?? Self.md5(of: localPath)
        guard remoteMD5 == localMD5 else {
            throw BackupError.remoteFailed("\(object.name) on the remote has MD5 \(remoteMD5), the local file \(localMD5)")
        }
    }

    /// The MD5 of a local file, read through a pipeline like every other read (it is in the page cache still).
    static func md5(of path: String) throws -> String {
        let file = try BackupError.mapping { try FileSystem.openForReading(path) }
        var hasher = Insecure.MD5()
        let sink = ClosureSink { hasher.update(bufferPointer: $0) }
        try DescriptorSource(fd: file.fd, name: path, closesDescriptor: true).pump(into: sink)
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
