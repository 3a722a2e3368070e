/// Where complete backups are kept, behind one small interface (pgBackRest's `StorageInterface` is the model): the
/// backup directory on this machine (`BackupStore`) is the first driver; an object store can be another. A backup
/// is two objects under its name: the dump, and its sidecar `<name>.json`, whose presence makes it complete.
/// Names passed in have passed `BackupName.validate`. Failures are `BackupError`s.
///
/// What every driver shares (what counts as a backup, orphans, damaged sidecars) is built on this interface in
/// `BackupStorage+Listing`; what only the local directory has (the lock, `.partial/`, the state and job files)
/// stays on `BackupStore`.
protocol BackupStorage: Sendable {
    /// The name of every object at the top of the store, in no order; empty when the store does not exist yet.
    func names() throws -> [String]
    /// Whether anything is stored as `object` (a dump's name, or a sidecar's).
    func exists(_ object: String) -> Bool
    /// The size of the dump `name` when it is an ordinary object (locally: a regular file, not a link or a
    /// directory); nil otherwise.
    func dumpSize(_ name: String) -> Int64?
    /// The sidecar of `name` as stored; nil when there is none.
    func readSidecar(_ name: String) throws -> [UInt8]?
    /// The dump of `name`, opened for reading.
    func openDump(_ name: String) throws -> StoredDump
    /// A new dump for `name`, written through a pipeline; nothing shows under `name` until it is committed.
    func newDump(_ name: String) throws -> any NewDump
    /// Removes backups, each one's sidecar before its dump (a crash in between leaves an orphan, not a lie),
    /// and makes the removals durable. Objects already gone are not an error.
    func remove(_ names: [String]) throws
}

extension BackupStorage {
    /// The sidecar's object name for the dump `name`.
    static func sidecarName(_ name: String) -> String { name + ".json" }

    func hasDump(_ name: String) -> Bool { exists(name) }
    func hasSidecar(_ name: String) -> Bool { exists(Self.sidecarName(name)) }
}

/// A stored dump opened for reading: where its bytes come from, and how many there are.
struct StoredDump {
    let source: DescriptorSource
    let size: Int64
    /// What must live as long as the bytes are read (the rclone process a remote dump streams from).
    var owner: AnyObject? = nil
}

/// A dump being written: the last stage of a create's pipeline. Nothing is a backup until `commit`; `discard` (or
/// dropping it uncommitted) removes what was written.
protocol NewDump: ByteStage {
    /// The name it will be stored under.
    var name: String { get }
    /// Makes the written bytes durable under `name`, then stores the sidecar `makeSidecar` returns (called only
    /// then, so what it measures includes making the dump durable). On failure nothing it made is left.
    func commit(_ makeSidecar: () throws -> BackupMetadata) throws -> BackupMetadata
    /// Removes what was written; nothing after a commit.
    func discard()
}
