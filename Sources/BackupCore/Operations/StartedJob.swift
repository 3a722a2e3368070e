import Foundation

/// A job just started (the API's 202 answer to `Prefer: respond-async`); the job itself is read at its own URL.
public struct StartedJob: Sendable, Equatable {
    public var job: Job

    public init(job: Job) {
        self.job = job
    }

    public var json: JSON {
        .object([("success", .bool(true)), ("message", .string("\(job.operation.name) started")), ("job", job.json)])
    }
}
