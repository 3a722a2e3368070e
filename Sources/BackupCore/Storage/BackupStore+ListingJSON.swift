import Foundation

extension BackupStore.Listing {
    /// The list reply (the CLI's `list --json`, the API's `GET /api/backups`): every entry, newest first, damaged
    /// last; orphans are not backups and are left out. With off-site copies on, each entry also names its
    /// `locations`, and backups only on the remote are listed too; off, the reply is exactly the old one.
    public var json: JSON { remote == nil ? .array(entries.map(\.json)) : .array(locatedEntries.map { $0.json }) }
}
