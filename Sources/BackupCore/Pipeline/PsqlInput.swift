/// The end of a restore's pipeline: psql's stdin, written in blocks of about 1 MiB. The last block stays here
/// until the restore has checked the whole backup: `finish()` writes nothing, and the restore then adds its own
/// lines (`send`) and `flush()`es, so what psql gets is exactly what was sent, in order.
final class PsqlInput: ByteStage {
    private static let blockSize = 1 << 20
    private let fd: Int32
    private var pending: [UInt8] = []
    /// psql stopped reading (a write failed, or it exited before the end): its own message says why.
    var psqlGone = false

    init(fd: Int32) {
        self.fd = fd
        pending.reserveCapacity(Self.blockSize)
    }

    func write(_ chunk: UnsafeRawBufferPointer) throws {
        pending.append(contentsOf: chunk)
        if pending.count >= Self.blockSize { try flush() }
    }

    func finish() throws {}

    /// Queues the restore's own lines (its preamble, the readiness marker, COMMIT).
    func send(_ bytes: [UInt8]) { pending.append(contentsOf: bytes) }

    /// Writes everything queued to psql.
    func flush() throws {
        guard !pending.isEmpty else { return }
        do {
            try pending.withUnsafeBytes { bytes in
                try BackupError.mapping { try FileSystem.writeAll(fd, bytes, path: "psql input") }
            }
        } catch {
            psqlGone = true
            throw error
        }
        pending.removeAll(keepingCapacity: true)
    }
}
