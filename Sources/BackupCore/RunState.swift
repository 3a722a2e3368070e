import Foundation

/// What the last runs left behind for `status`: kept in `$BACKUP_DIR/.state.json`, written atomically.
public struct RunState: Sendable, Equatable {
    public struct Failure: Sendable, Equatable {
        public var at: Date
        public var operation: String
        public var message: String

        public var json: JSON {
            .object([("at", .string(Timestamp.iso8601(at))), ("operation", .string(operation)),
                     ("message", .string(message))])
        }
    }

    public var lastFailure: Failure?
    public var lastSuccessAt: Date?

    public init(lastFailure: Failure? = nil, lastSuccessAt: Date? = nil) {
        self.lastFailure = lastFailure
        self.lastSuccessAt = lastSuccessAt
    }

    var json: JSON {
        .object([("last_failure", lastFailure?.json ?? .null),
                 ("last_success_at", lastSuccessAt.map { .string(Timestamp.iso8601($0)) } ?? .null)])
    }

    static func load(_ store: BackupStore) -> RunState {
        guard let bytes = try? FileSystem.readSmallFile(store.statePath), let json = try? JSON.parse(bytes) else {
            return RunState()
        }
        var state = RunState()
        if let failure = json["last_failure"], let at = failure["at"]?.stringValue.flatMap(Timestamp.parse) {
            state.lastFailure = Failure(at: at, operation: failure["operation"]?.stringValue ?? "create",
                                        message: failure["message"]?.stringValue ?? "")
        }
        state.lastSuccessAt = json["last_success_at"]?.stringValue.flatMap(Timestamp.parse)
        return state
    }

    /// Saves the state; called only while holding the lock. On a full volume the atomic write cannot make its
    /// temp file, so the existing file is overwritten in place: a failure must be recorded most of all then.
    func save(_ store: BackupStore) throws {
        let bytes = Array(json.serialized().utf8)
        do {
            try FileSystem.writeAtomically(bytes, to: store.statePath, tempDirectory: store.partialDirectory)
        } catch {
            guard FileSystem.exists(store.statePath) else { throw error }
            try FileSystem.overwriteInPlace(bytes, at: store.statePath)
        }
    }
}
