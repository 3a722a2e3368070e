import Foundation

/// What a delete removed. The "deleted" reply of the CLI (`--json`) and the API.
public struct DeleteResult: Sendable, Equatable {
    public var filename: String

    public init(filename: String) {
        self.filename = filename
    }

    public var json: JSON {
        .object([("success", .bool(true)), ("message", .string("Backup \(filename) deleted"))])
    }
}
