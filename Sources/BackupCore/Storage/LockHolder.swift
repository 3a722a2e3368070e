import Foundation

/// Who holds the lock: written into the lock file by the holder.
public struct LockHolder: Sendable, Equatable {
    public var operation: String
    public var pid: Int32
    public var since: Date

    public var json: JSON {
        .object([("operation", .string(operation)), ("since", .string(Timestamp.iso8601(since))), ("pid", .int(Int64(pid)))])
    }
}
