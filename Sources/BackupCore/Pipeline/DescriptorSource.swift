import Foundation

/// The start of a pipeline: reads a file descriptor (a stored dump, or a child's stdout) to its end, hands each
/// chunk to a stage, then finishes the stage. One buffer serves every read, so a chunk is valid only during the
/// stage's `write` (as `ByteStage` says).
final class DescriptorSource {
    static let defaultChunkSize = 1 << 20

    private let fd: Int32
    /// What the descriptor reads, for messages ("pg_dump output", a file's path).
    let name: String
    private let closesDescriptor: Bool

    /// - Parameter closesDescriptor: whether this source owns `fd` and closes it when it goes away; a child's pipe
    ///   stays its `ChildProcess`'s to close.
    init(fd: Int32, name: String, closesDescriptor: Bool) {
        self.fd = fd
        self.name = name
        self.closesDescriptor = closesDescriptor
    }

    deinit { if closesDescriptor, fd >= 0 { close(fd) } }

    /// Reads to the end of input in chunks of `chunkSize`, writing each to `stage`, then finishes it. With
    /// `interruptible`, a SIGTERM, SIGINT or SIGHUP that arrived meanwhile (see `Interruption`) stops the reading
    /// between chunks as `interrupted(operation:)`. A failed read is `BackupError.io` naming `name`.
    func pump(into stage: ByteStage, chunkSize: Int = DescriptorSource.defaultChunkSize,
              interruptible operation: String? = nil) throws {
        var buffer = [UInt8](repeating: 0, count: chunkSize)
        while true {
            let count = try buffer.withUnsafeMutableBytes { raw in
                try BackupError.mapping { try FileSystem.readSome(fd, into: raw, path: name) }
            }
            if count == 0 { break }
            try buffer.withUnsafeBytes { try stage.write(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            if let operation { try Interruption.shared.check(operation) }
        }
        try stage.finish()
    }

    /// Moves the reading to byte `offset` of a file (a download's range starts there). A failure is
    /// `BackupError.io` naming `name`.
    func seek(to offset: Int64) throws {
        try BackupError.mapping { try FileSystem.seek(fd, to: offset, path: name) }
    }
}
