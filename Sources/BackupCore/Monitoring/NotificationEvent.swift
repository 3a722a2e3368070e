import Foundation

/// What `BACKUP_NOTIFY_URL` is POSTed: one operation's failure (or success, with `BACKUP_NOTIFY_ON=always`).
public struct NotificationEvent: Sendable, Equatable {
    public enum Outcome: String, Sendable { case failure, success }

    public var operation: String
    public var outcome: Outcome
    public var database: String
    /// The backup the operation made or used, when there is one.
    public var backup: String?
    public var message: String
    public var host: String
    public var time: Date

    /// `create.failure`, `restore.success`, …
    public var event: String { "\(operation).\(outcome.rawValue)" }

    /// The longest message sent; an error's text is rarely longer, and a webhook should not get a stderr dump.
    static let messageLimit = 2000

    public var json: JSON {
        .object([
            ("event", .string(event)), ("operation", .string(operation)), ("outcome", .string(outcome.rawValue)),
            ("database", .string(database)), ("backup", backup.map(JSON.string) ?? .null),
            ("message", .string(String(message.prefix(Self.messageLimit)))), ("host", .string(host)),
            ("time", .string(Timestamp.iso8601(time))),
        ])
    }

    /// This machine's name, as `hostname` prints it.
    public static var localHost: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
