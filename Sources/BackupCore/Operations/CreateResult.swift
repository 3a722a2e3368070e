import Foundation

/// What a create made: the committed backup. The "created" reply of the CLI (`--json`), the API and an async job.
public struct CreateResult: Sendable, Equatable {
    public var backup: BackupMetadata

    public init(backup: BackupMetadata) {
        self.backup = backup
    }

    public static let message = "Backup created successfully"

    public var json: JSON {
        .object([("success", .bool(true)), ("message", .string(Self.message)), ("backup", backup.listingJSON)])
    }
}
