/// Delivers one HTTP POST, giving up after a timeout. A protocol so tests can count what would be sent; the
/// product uses `CurlTransport`.
public protocol NotificationTransport: Sendable {
    /// Throws `NotificationError` when the request could not be delivered or was not answered with 2xx.
    func post(url: String, body: [UInt8], contentType: String?) throws
}

/// Why a notification was not delivered. Never holds the URL unredacted.
public struct NotificationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var destination: String
    public var reason: String

    public init(url: String, reason: String) {
        destination = URLRedaction.redact(url)
        self.reason = URLRedaction.scrub(reason, url: url)
    }

    public var description: String { "notification to \(destination) failed: \(reason)" }
}
