import Foundation

extension BackupStore.Listing {
    /// The list reply (the CLI's `list --json`, the API's `GET /api/backups`): every entry, newest first, damaged
    /// last; orphans are not backups and are left out. Each entry names its `locations`; with off-site copies on,
    /// backups only on the remote are listed too.
    public var json: JSON { .array(locatedEntries.map { $0.json }) }
}
