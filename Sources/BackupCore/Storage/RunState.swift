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

    /// A scheduler run that found another operation holding the lock and made no backup.
    public struct SkippedRun: Sendable, Equatable {
        public var at: Date
        public var reason: String

        public var json: JSON { .object([("at", .string(Timestamp.iso8601(at))), ("reason", .string(reason))]) }
    }

    public var lastFailure: Failure?
    /// When each operation last succeeded ("create", "restore"): a failure is cleared by a later success of its kind.
    public var lastSuccesses: [String: Date] = [:]
    public var lastSkippedRun: SkippedRun?
    /// When each operation last failed (the metrics' per-operation failure times). `lastFailure` is the newest
    /// failure of an operation other than upload and sync, whose failures are the remote's (`RemoteState.lastError`).
    public var lastFailures: [String: Date] = [:]
    /// The last notification (webhook or healthcheck ping) that could not be delivered, its URL redacted.
    public var lastNotificationError: Failure?
    /// The newest restore drill, of whichever backup (its sidecar keeps it too).
    public var lastDrill: DrillRecord?
    /// The databases `restore --swap` and `rollback` keep for `rollback`, newest first.
    public var previousDatabases: [PreviousDatabase] = []
    /// `<db>_new_*` databases a running `restore --swap` is about to create or has created: recorded before its
    /// CREATE DATABASE, so one killed before its marker comment was set is still known as pgbackup's.
    public var swapDatabasesInProgress: [String] = []

    public init(lastFailure: Failure? = nil) {
        self.lastFailure = lastFailure
    }

    /// The last success of `operation` (a scheduled run is a create).
    public func lastSuccess(of operation: String) -> Date? {
        lastSuccesses[operation]
    }

    var json: JSON {
        .object([("last_failure", lastFailure?.json ?? .null),
                 ("last_success", .object(lastSuccesses.sorted { $0.key < $1.key }.map { ($0.key, JSON.string(Timestamp.iso8601($0.value))) })),
                 ("last_skipped_run", lastSkippedRun?.json ?? .null),
                 ("last_failure_at", Self.timesJSON(lastFailures)),
                 ("last_notification_error", lastNotificationError?.json ?? .null),
                 ("last_drill", lastDrill?.json ?? .null),
                 ("previous_databases", .array(previousDatabases.map(\.json))),
                 ("swap_databases_in_progress", .array(swapDatabasesInProgress.map(JSON.string)))])
    }

    private static func timesJSON(_ times: [String: Date]) -> JSON {
        .object(times.sorted { $0.key < $1.key }.map { ($0.key, JSON.string(Timestamp.iso8601($0.value))) })
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
        if case let .object(successes)? = json["last_success"] {
            for (operation, value) in successes {
                if let at = value.stringValue.flatMap(Timestamp.parse) { state.lastSuccesses[operation] = at }
            }
        }
        // A state file written before `last_success` existed has only the last create's time, under this name.
        if let at = json["last_success_at"]?.stringValue.flatMap(Timestamp.parse) {
            state.lastSuccesses["create"] = at
        }
        if let skipped = json["last_skipped_run"], let at = skipped["at"]?.stringValue.flatMap(Timestamp.parse) {
            state.lastSkippedRun = SkippedRun(at: at, reason: skipped["reason"]?.stringValue ?? "")
        }
        if case let .object(failures)? = json["last_failure_at"] {
            for (operation, value) in failures {
                if let at = value.stringValue.flatMap(Timestamp.parse) { state.lastFailures[operation] = at }
            }
        }
        if let error = json["last_notification_error"], let at = error["at"]?.stringValue.flatMap(Timestamp.parse) {
            state.lastNotificationError = Failure(at: at, operation: error["operation"]?.stringValue ?? "notify",
                                                  message: error["message"]?.stringValue ?? "")
        }
        state.lastDrill = json["last_drill"].flatMap(DrillRecord.parse)
        if case let .array(previous)? = json["previous_databases"] {
            state.previousDatabases = previous.compactMap(PreviousDatabase.parse)
        }
        if case let .array(names)? = json["swap_databases_in_progress"] {
            state.swapDatabasesInProgress = names.compactMap(\.stringValue)
        }
        return state
    }

    /// Loads, changes and saves the state under an exclusive `flock` of the backup directory itself, so writers
    /// that do not hold the operation lock (a scheduler run recording that it was skipped) lose no update.
    static func update(_ store: BackupStore, _ change: (inout RunState) -> Void) throws {
        let fd = open(store.directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            while flock(fd, LOCK_EX) != 0 && errno == EINTR {}
        }
        defer { if fd >= 0 { close(fd) } }
        var state = load(store)
        change(&state)
        try state.save(store)
    }

    /// Saves the state. On a full volume the atomic write cannot make its temp file, so the existing file is
    /// overwritten in place: a failure must be recorded most of all then.
    func save(_ store: BackupStore) throws {
        let bytes = Array(json.serialized().utf8)
        try BackupError.mapping {
            do {
                try FileSystem.makeDirectory(store.partialDirectory)
                try FileSystem.writeAtomically(bytes, to: store.statePath, tempDirectory: store.partialDirectory)
            } catch {
                guard FileSystem.exists(store.statePath) else { throw error }
                try FileSystem.overwriteInPlace(bytes, at: store.statePath)
            }
        }
    }
}
