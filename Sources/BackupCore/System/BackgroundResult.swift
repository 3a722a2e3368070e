import Foundation

/// A value computed on a thread of its own, so that slow work (a file's hash, a short-lived client process)
/// overlaps what the caller does meanwhile. `value()` waits for it.
final class BackgroundResult<Value>: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    /// Written once by the thread before it signals `done`; read only after waiting on `done`.
    private var result: Result<Value, Error>?

    init(_ work: @escaping @Sendable () throws -> Value) {
        Thread { [self] in
            result = Result { try work() }
            done.signal()
        }.start()
    }

    /// Waits for the value (once; later calls return at once), or throws what the work threw.
    func value() throws -> Value {
        done.wait()
        done.signal()
        guard let result else { preconditionFailure("signalled before the result was set") }
        return try result.get()
    }
}
