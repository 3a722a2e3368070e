import Foundation

/// STAND-IN until the parallel loader lands (issue 15 part 1): loads a backup into a fresh, empty database by
/// delegating to the single-transaction `RestoreOperation`. `jobs` is accepted and not used yet.
struct LoadOperation {
    let storage: any BackupStorage
    let tools: PostgresTools
    var identity: AgeIdentity?
    var age = AgeTool(environment: [:])
    var jobs: Int

    func run(_ metadata: BackupMetadata, into database: String, serverVersion: Int, progress: ProgressHandler?) throws {
        try RestoreOperation(storage: storage, tools: tools, identity: identity, age: age)
            .run(metadata, into: database, serverVersion: serverVersion, progress: progress)
    }
}
