/// One entry of a listing: a backup whose sidecar reads, or one whose sidecar is damaged.
public enum BackupEntry: Sendable {
    case complete(BackupMetadata)
    case damaged(filename: String, error: String)

    public var filename: String {
        switch self {
        case let .complete(metadata): metadata.filename
        case let .damaged(filename, _): filename
        }
    }

    public var json: JSON {
        switch self {
        case let .complete(metadata): metadata.listingJSON
        case let .damaged(filename, error):
            .object([("filename", .string(filename)), ("error", .string(error)), ("verified", .bool(false))])
        }
    }
}
