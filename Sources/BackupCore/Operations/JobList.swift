import Foundation

/// The jobs still on record, newest first (the API's `GET /api/backups/jobs`).
public struct JobList: Sendable, Equatable {
    public var jobs: [Job]

    public init(jobs: [Job]) {
        self.jobs = jobs
    }

    public var json: JSON { .array(jobs.map(\.json)) }
}
