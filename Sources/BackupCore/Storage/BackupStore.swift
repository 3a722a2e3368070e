import Foundation

/// The backup directory on this machine: the first `BackupStorage` driver, and everything else pgbackup keeps
/// there — the lock, `.partial/` (dumps being written), `.state.json`, `.jobs/`, the listing cache. Only the
/// types in Storage/ touch these paths; operations ask this type.
public struct BackupStore: Sendable {
    /// The listing's type under the name the front ends know it by.
    public typealias Listing = BackupListing

    public let directory: String

    public init(directory: String) { self.directory = directory }

    var partialDirectory: String { "\(directory)/.partial" }
    var lockPath: String { "\(directory)/.lock" }
    var statePath: String { "\(directory)/.state.json" }
    var jobsDirectory: String { "\(directory)/.jobs" }

    /// Path of a backup's dump; `name` must have passed `BackupName.validate`.
    func dumpPath(_ name: String) -> String { "\(directory)/\(name)" }
    func sidecarPath(_ name: String) -> String { "\(directory)/\(Self.sidecarName(name))" }

    /// Creates the directory tree (0700) if needed.
    func prepare() throws {
        try BackupError.mapping {
            try FileSystem.makeDirectory(directory)
            try FileSystem.makeDirectory(partialDirectory)
            try FileSystem.makeDirectory(jobsDirectory)
        }
    }

    /// Takes the directory's lock. `writesNothing`: the operation only reads the directory (a restore without a
    /// safety backup), so on a read-only volume it takes the runtime lock instead (see `readOnlyLock`).
    func lock(_ operation: String, now: Date, writesNothing: Bool = false) throws -> BackupLock {
        if DirectoryAccess.isReadOnlyVolume(directory) {
            if writesNothing { return try readOnlyLock(operation, now: now) }
            throw BackupError.io(path: directory, message: "read-only file system"
                + (operation == "restore" ? "; restore --no-safety-backup works from a read-only backup directory" : ""))
        }
        try prepare()
        let lock = try BackupLock.acquire(path: lockPath, operation: operation, now: now)
        removeStalePartials()
        // A state file that already exists can still be rewritten in place when the volume fills up.
        if !FileSystem.exists(statePath) {
            try? FileSystem.writeAtomically(Array("{}".utf8), to: statePath, tempDirectory: partialDirectory)
        }
        return lock
    }

    /// Partial files are only written under the lock, so once we hold it every one left is from a crashed run.
    func removeStalePartials() {
        guard let names = try? FileSystem.list(partialDirectory) else { return }
        for name in names { try? FileSystem.remove("\(partialDirectory)/\(name)") }
    }

    public var lockHolder: LockHolder? { BackupLock.holder(path: lockPath) ?? readOnlyLockHolder }

    /// Names in use in the directory or in flight, for collision-free naming.
    func isTaken(_ name: String) -> Bool {
        hasDump(name) || hasSidecar(name) || FileSystem.exists("\(partialDirectory)/\(name)")
    }

    /// Free bytes on the directory's volume, when it can be asked.
    var freeBytes: Int64? { FileSystem.freeBytes(directory) }
}

extension BackupStore: BackupStorage {
    func names() throws -> [String] {
        guard FileSystem.exists(directory) else { return [] }
        return try BackupError.mapping { try FileSystem.list(directory) }
    }

    func exists(_ object: String) -> Bool { FileSystem.exists("\(directory)/\(object)") }

    func dumpSize(_ name: String) -> Int64? { FileSystem.regularFileSize(dumpPath(name)) }

    func readSidecar(_ name: String) throws -> [UInt8]? {
        try BackupError.mapping { try FileSystem.readSmallFile(sidecarPath(name)) }
    }

    func openDump(_ name: String) throws -> StoredDump {
        let path = dumpPath(name)
        let file = try BackupError.mapping { try FileSystem.openForReading(path) }
        return StoredDump(source: DescriptorSource(fd: file.fd, name: path, closesDescriptor: true), size: file.size)
    }

    func newDump(_ name: String) throws -> any NewDump { try PartialDump(name, in: self) }

    func remove(_ names: [String]) throws {
        guard !names.isEmpty else { return }
        try BackupError.mapping {
            for name in names {
                for path in [sidecarPath(name), dumpPath(name)] { try FileSystem.remove(path) }
            }
            try FileSystem.fsyncPath(directory, directory: true)
        }
    }

    /// Writes a sidecar atomically (its temp file in `.partial/`), as pgbackup writes every sidecar.
    func writeSidecar(_ metadata: BackupMetadata) throws {
        try BackupError.mapping {
            try FileSystem.writeAtomically(Array(metadata.json.serialized(pretty: true).utf8),
                                           to: sidecarPath(metadata.filename), tempDirectory: partialDirectory)
        }
    }
}
