/// Where a low-level `SystemError` becomes the `BackupError` a front end shows: a program that could not be
/// started is `launchFailed`, any other failed call `io` naming the path, with the same text either way.
extension BackupError {
    init(_ error: SystemError) {
        self = error.operation.startsProgram
            ? .launchFailed(program: error.path, message: error.message)
            : .io(path: error.path, message: error.message)
    }

    /// Runs `body`, turning a `SystemError` it throws into the `BackupError` that says the same.
    static func mapping<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as SystemError {
            throw BackupError(error)
        }
    }
}
