/// A stored dump on its way to a client: its size, which of its bytes go out (all of them, or one range), and
/// `send`, which pumps those through a pipeline (the dump's source → `ByteLimitStage` → the caller's writer). It
/// owns the dump's descriptor (its `DescriptorSource` does): `send` closes it when done, and dropped unsent (a HEAD,
/// a refused download) the body closes it too.
///
/// `@unchecked Sendable`: it travels from the worker that opened it to the thread that sends it, and only one of
/// them uses it at a time.
public final class DownloadBody: @unchecked Sendable {
    /// The whole dump's size.
    public let size: Int64
    /// Where the bytes sent start, and how many are sent: 0 and `size` until `select` picks a range.
    public private(set) var offset: Int64 = 0
    public private(set) var count: Int64
    /// nil once sent: the descriptor is closed then, whoever still holds the body.
    private var source: DescriptorSource?

    init(_ dump: StoredDump) {
        source = dump.source
        size = dump.size
        count = dump.size
    }

    /// Sends `count` bytes from `offset` instead of the whole dump; the reading is moved there now.
    public func select(from offset: Int64, count: Int64) throws {
        precondition(offset >= 0 && count >= 0 && offset + count <= size, "a range outside the dump")
        guard let source else { preconditionFailure("the body was sent") }
        try source.seek(to: offset)
        self.offset = offset
        self.count = count
    }

    /// Hands the selected bytes to `write` in chunks of at most `chunkSize` (the only buffer: a download's memory
    /// stays that small), then closes the dump: it sends once. A dump that got shorter meanwhile sends what is
    /// there; a failed read is `BackupError.io`; what `write` throws comes out unchanged.
    public func send(chunkSize: Int = 1 << 20, to write: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let source else { preconditionFailure("the body was sent") }
        defer { self.source = nil }
        try withoutActuallyEscaping(write) { write in
            let limit = ByteLimitStage(limit: count, next: ClosureSink(write))
            do {
                try source.pump(into: limit, chunkSize: chunkSize)
            } catch is ByteLimitStage.Reached {
                try limit.finish()
            }
        }
    }
}
