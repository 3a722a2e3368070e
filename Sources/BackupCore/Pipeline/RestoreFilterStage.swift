/// Transforms a plain dump on its way to psql (`RestoreFilter`): pg_dump's own large-object BEGIN/COMMIT are
/// commented out so the restore stays one transaction, and its `SET lock_timeout = 0;` becomes ours.
final class RestoreFilterStage: ByteStage {
    private let next: ByteStage
    private var filter = RestoreFilter()

    /// - Parameter lockTimeoutLine: the line that replaces the dump's own `SET lock_timeout = 0;`.
    /// - Parameter keepingTransactions: leaves pg_dump's large-object BEGIN/COMMIT alone (a load without an
    ///   outer transaction).
    init(lockTimeoutLine: [UInt8], keepingTransactions: Bool = false, next: ByteStage) {
        self.next = next
        filter.lockTimeoutLine = lockTimeoutLine
        filter.neutralisesLargeObjectTransactions = !keepingTransactions
    }

    func write(_ chunk: UnsafeRawBufferPointer) throws {
        try filter.process(chunk) { try next.write($0) }
    }

    func finish() throws {
        try filter.finish { try next.write($0) }
        try next.finish()
    }
}
