import Foundation

/// Progress of a long operation: bytes processed so far and the average rate.
public struct OperationProgress: Sendable, Equatable {
    public var phase: String
    public var bytes: Int64
    public var elapsedSeconds: Double

    public var bytesPerSecond: Double { elapsedSeconds > 0 ? Double(bytes) / elapsedSeconds : 0 }

    public var json: JSON {
        .object([("phase", .string(phase)), ("bytes", .int(bytes)),
                 ("rate_bytes_per_second", .int(Int64(bytesPerSecond)))])
    }
}

public typealias ProgressHandler = @Sendable (OperationProgress) -> Void

/// Calls a handler at most every `interval` seconds.
struct ProgressThrottle {
    let phase: String
    let handler: ProgressHandler?
    let start = Date()
    var lastReport = Date.distantPast
    let interval: TimeInterval = 0.5

    mutating func report(_ bytes: Int64, force: Bool = false) {
        guard let handler else { return }
        let now = Date()
        guard force || now.timeIntervalSince(lastReport) >= interval else { return }
        lastReport = now
        handler(OperationProgress(phase: phase, bytes: bytes, elapsedSeconds: now.timeIntervalSince(start)))
    }
}
