import Foundation

/// The remote as a `BackupStorage` driver, for reading: listing, sidecars and streamed dumps through rclone, and
/// removal (sidecar before dump). New dumps are never written here: a backup is made locally, then uploaded whole
/// (`BackupManager.upload`), so a create never depends on the network.
struct RemoteStorage: BackupStorage {
    let remote: RcloneRemote

    func names() throws -> [String] { try remote.objects().map(\.name) }

    func exists(_ object: String) -> Bool { ((try? remote.stat(object)) ?? nil) != nil }

    func dumpSize(_ name: String) -> Int64? { ((try? remote.stat(name)) ?? nil)?.size }

    func readSidecar(_ name: String) throws -> [UInt8]? {
        guard exists(BackupStore.sidecarName(name)) else { return nil }
        return try remote.read(BackupStore.sidecarName(name))
    }

    /// The dump streamed from `rclone cat`; the process is ended and reaped when the reading is done.
    func openDump(_ name: String) throws -> StoredDump {
        guard let object = try remote.stat(name) else { throw BackupError.notFound(name) }
        let process = try remote.open(name)
        guard let fd = process.takeStdout() else { throw BackupError.remoteFailed("rclone gave no output for \(name)") }
        return StoredDump(source: DescriptorSource(fd: fd, name: "\(remote.settings.spec)/\(name)", closesDescriptor: true),
                          size: object.size, owner: Reaper(process))
    }

    func newDump(_ name: String) throws -> any NewDump {
        throw BackupError.invalidInput("backups are made locally and then uploaded, never written to the remote directly")
    }

    func remove(_ names: [String]) throws {
        for name in names {
            try remote.delete(BackupStore.sidecarName(name))
            try remote.delete(name)
        }
    }

    /// Stops and reaps a reading rclone once nobody reads from it any more.
    final class Reaper {
        let process: ChildProcess
        init(_ process: ChildProcess) { self.process = process }
        deinit {
            process.signal(SIGTERM)
            process.wait()
        }
    }
}
