extension BackupMetadata {
    /// The database a backup belongs to for retention, scheduling and the free-space check: the sidecar's
    /// `database`, or for the old tool's sidecars without one, the `<db>` part of the name.
    public var retentionDatabase: String { BackupManager.sourceDatabase(of: self) ?? "" }

    /// True when this is a backup of `database` (as the configuration or a restore target names it); the same
    /// rule as the restore's check of which database a backup is of.
    public func isBackup(of database: String) -> Bool { !BackupManager.isBackup(self, ofAnotherDatabaseThan: database) }
}
