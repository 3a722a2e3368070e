import Foundation

/// A long operation run detached from the request that asked for it. Its whole state is a file,
/// `$BACKUP_DIR/.jobs/<id>.json`, so it survives the responder exiting and any responder can report it.
public struct Job: Sendable, Equatable {
    public enum Operation: Sendable, Equatable {
        case create(description: String)
        case restore(filename: String, targetDatabase: String?, safetyBackup: Bool, terminateConnections: Bool = false,
                     swap: Bool = false)
        case drill(filename: String)

        public var name: String {
            switch self {
            case .create: "create"
            case .restore: "restore"
            case .drill: "drill"
            }
        }
    }

    public enum State: String, Sendable {
        case queued, running, succeeded, failed
    }

    public var id: String
    public var operation: Operation
    public var state: State
    public var user: String?
    public var createdAt: Date
    public var updatedAt: Date
    public var pid: Int32?
    public var progress: OperationProgress?
    public var result: JSON?
    public var error: JSON?

    public var json: JSON {
        var request: [(String, JSON)] = []
        switch operation {
        case let .create(description):
            request = [("description", .string(description))]
        case let .restore(filename, target, safety, terminate, swap):
            request = [("backup_filename", .string(filename)), ("target_database", target.map(JSON.string) ?? .null),
                       ("safety_backup", .bool(safety)), ("terminate_connections", .bool(terminate)),
                       ("mode", .string(swap ? "swap" : "transaction"))]
        case let .drill(filename):
            request = [("backup_filename", .string(filename))]
        }
        return .object([
            ("id", .string(id)), ("operation", .string(operation.name)), ("state", .string(state.rawValue)),
            ("request", .object(request)), ("user", user.map(JSON.string) ?? .null),
            ("created_at", .string(Timestamp.iso8601(createdAt))), ("updated_at", .string(Timestamp.iso8601(updatedAt))),
            ("pid", pid.map { .int(Int64($0)) } ?? .null), ("progress", progress?.json ?? .null),
            ("result", result ?? .null), ("error", error ?? .null),
        ])
    }

    static func parse(_ json: JSON) -> Job? {
        guard let id = json["id"]?.stringValue, let opName = json["operation"]?.stringValue,
              let state = json["state"]?.stringValue.flatMap(State.init(rawValue:)),
              let created = json["created_at"]?.stringValue.flatMap(Timestamp.parse),
              let updated = json["updated_at"]?.stringValue.flatMap(Timestamp.parse), let request = json["request"]
        else { return nil }
        let operation: Operation
        switch opName {
        case "create": operation = .create(description: request["description"]?.stringValue ?? "")
        case "restore":
            guard let filename = request["backup_filename"]?.stringValue else { return nil }
            operation = .restore(filename: filename, targetDatabase: request["target_database"]?.stringValue,
                                 safetyBackup: request["safety_backup"]?.boolValue ?? true,
                                 terminateConnections: request["terminate_connections"]?.boolValue ?? false,
                                 swap: request["mode"]?.stringValue == "swap")
        case "drill":
            guard let filename = request["backup_filename"]?.stringValue else { return nil }
            operation = .drill(filename: filename)
        default: return nil
        }
        var progress: OperationProgress?
        if let p = json["progress"], let bytes = p["bytes"]?.int64Value {
            let rate = p["rate_bytes_per_second"]?.doubleValue ?? 0
            progress = OperationProgress(phase: p["phase"]?.stringValue ?? "", bytes: bytes,
                                elapsedSeconds: rate > 0 ? Double(bytes) / rate : 0)
        }
        return Job(id: id, operation: operation, state: state, user: json["user"]?.stringValue, createdAt: created,
                   updatedAt: updated, pid: json["pid"]?.int64Value.map { Int32($0) }, progress: progress,
                   result: json["result"].flatMap { $0.isNull ? nil : $0 },
                   error: json["error"].flatMap { $0.isNull ? nil : $0 })
    }

    /// Job ids are 32 lower-case hex digits; anything else never touches the filesystem.
    public static func isValidID(_ id: String) -> Bool {
        id.utf8.count == 32 && id.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}
