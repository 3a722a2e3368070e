import Foundation

extension BackupStore.Listing {
    /// The list reply (the CLI's `list --json`, the API's `GET /api/backups`): every entry, newest first, damaged
    /// last; orphans are not backups and are left out.
    public var json: JSON { .array(entries.map(\.json)) }
}
