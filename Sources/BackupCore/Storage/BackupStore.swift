import Foundation

/// The backup directory and everything on disk: where files go, what counts as a backup, the lock and the
/// state file. Only BackupCore touches these paths.
public struct BackupStore: Sendable {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    var partialDirectory: String { "\(directory)/.partial" }
    var lockPath: String { "\(directory)/.lock" }
    var statePath: String { "\(directory)/.state.json" }
    var jobsDirectory: String { "\(directory)/.jobs" }

    /// Path of a backup's dump; `name` must have passed `BackupName.validate`.
    func dumpPath(_ name: String) -> String { "\(directory)/\(name)" }
    func sidecarPath(_ name: String) -> String { "\(directory)/\(name).json" }

    /// Creates the directory tree (0700) if needed.
    func prepare() throws {
        try FileSystem.makeDirectory(directory)
        try FileSystem.makeDirectory(partialDirectory)
        try FileSystem.makeDirectory(jobsDirectory)
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
        for name in names { unlink("\(partialDirectory)/\(name)") }
    }

    public var lockHolder: LockHolder? { BackupLock.holder(path: lockPath) ?? readOnlyLockHolder }

    /// A listing of the directory: complete backups (newest first), damaged sidecars, and orphans (dump files
    /// without a sidecar, never counted or deleted automatically).
    public struct Listing: Sendable {
        public var backups: [BackupMetadata]
        public var damaged: [(filename: String, error: String)]
        public var orphans: [String]

        /// Complete and damaged entries together, newest first, damaged last.
        public var entries: [BackupEntry] {
            backups.map(BackupEntry.complete) + damaged.map { BackupEntry.damaged(filename: $0.filename, error: $0.error) }
        }
    }

    public func listing() throws -> Listing {
        guard FileSystem.exists(directory) else { return Listing(backups: [], damaged: [], orphans: []) }
        let names = try FileSystem.list(directory)
        let present = Set(names)
        var backups: [BackupMetadata] = []
        var damaged: [(String, String)] = []
        var orphans: [String] = []
        for name in names where BackupName.isValid(name) {
            guard present.contains(name + ".json") else {
                orphans.append(name)
                continue
            }
            switch readMetadata(name) {
            case let .success(metadata): backups.append(metadata)
            case let .failure(error): damaged.append((name, error.description))
            }
        }
        for name in names where BackupName.isSidecar(name) {
            let dump = String(name.dropLast(5))
            if BackupName.isValid(dump), !present.contains(dump) {
                damaged.append((dump, "the backup file is missing; only its metadata is left"))
            }
        }
        backups.sort { $0.createdAt != $1.createdAt ? $0.createdAt > $1.createdAt : $0.filename > $1.filename }
        return Listing(backups: backups, damaged: damaged.sorted { $0.0 > $1.0 }, orphans: orphans.sorted(by: >))
    }

    /// Reads and checks one sidecar: it must parse, name its own file, and sit next to a regular file.
    func readMetadata(_ name: String) -> Result<BackupMetadata, SidecarError> {
        do {
            guard let bytes = try FileSystem.readSmallFile(sidecarPath(name)) else {
                return .failure(SidecarError("metadata file is missing"))
            }
            let metadata = try BackupMetadata.parse(bytes)
            guard metadata.filename == name else {
                return .failure(SidecarError("metadata names another file ('\(metadata.filename)')"))
            }
            guard FileSystem.regularFileSize(dumpPath(name)) != nil else {
                return .failure(SidecarError("the backup file is missing or not a regular file"))
            }
            return .success(metadata)
        } catch let error as SidecarError {
            return .failure(error)
        } catch {
            return .failure(SidecarError("\(error)"))
        }
    }

    /// The metadata of a complete backup, or `notFound`.
    func metadata(_ name: String) throws -> BackupMetadata {
        guard FileSystem.exists(sidecarPath(name)) || FileSystem.exists(dumpPath(name)) else {
            throw BackupError.notFound(name)
        }
        switch readMetadata(name) {
        case let .success(metadata): return metadata
        case let .failure(error):
            guard FileSystem.exists(sidecarPath(name)) else {
                throw BackupError.verificationFailed(name: name, reason: "it has no metadata file (an incomplete backup)")
            }
            throw BackupError.verificationFailed(name: name, reason: error.description)
        }
    }

    /// Names in use in the directory or in flight, for collision-free naming.
    func isTaken(_ name: String) -> Bool {
        FileSystem.exists(dumpPath(name)) || FileSystem.exists(sidecarPath(name))
            || FileSystem.exists("\(partialDirectory)/\(name)")
    }
}
