import Foundation

/// The source of "now", injected so scheduling and retention can be tested at any date.
public protocol TimeSource: Sendable {
    func now() -> Date
}

/// The system clock.
public struct SystemTimeSource: TimeSource {
    public init() {}
    public func now() -> Date { Date() }
}

/// A time source that always says the same time (tests).
public struct FixedTimeSource: TimeSource {
    public let date: Date
    public init(_ date: Date) { self.date = date }
    public func now() -> Date { date }
}
