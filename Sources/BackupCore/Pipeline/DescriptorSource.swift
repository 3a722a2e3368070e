import CSystem
import Foundation

/// The start of a pipeline: reads a file descriptor (a stored dump, or a child's stdout) to its end, hands each
/// chunk to a stage, then finishes the stage. One buffer serves every read, so a chunk is valid only during the
/// stage's `write` (as `ByteStage` says).
final class DescriptorSource {
    static let defaultChunkSize = 1 << 20
    /// Reading a pipe, a read that returned less than an eighth of the pipe found it nearly empty: the next read
    /// waits `smallReadPause` first, so the writer fills more of the pipe meanwhile. Reading each of pg_dump's 4 KiB
    /// writes as it came cost a wake-up here and a context switch in pg_dump per write (≈ 150,000 for a 600 MB dump;
    /// a zstd create took ≈ 0.5 s more system CPU and ≈ 15 % more time). Only for pipes of at least
    /// `pausingPipeSize` (the ones pgbackup enlarges): a pause then costs no throughput, since a writer faster than
    /// an eighth of the pipe per pause fills it enough that the next read is not small. Files read whole chunks.
    static let smallReadPause: UInt32 = 2_000
    static let pausingPipeSize = 1 << 20

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
        let smallRead = Self.smallReadLimit(fd: fd, chunkSize: chunkSize)
        while true {
            let count = try buffer.withUnsafeMutableBytes { raw in
                try BackupError.mapping { try FileSystem.readSome(fd, into: raw, path: name) }
            }
            if count == 0 { break }
            try buffer.withUnsafeBytes { try stage.write(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            if let operation { try Interruption.shared.check(operation) }
            if count < smallRead { usleep(Self.smallReadPause) }
        }
        try stage.finish()
    }

    /// The read size below which `pump` pauses before the next read of `fd`: 0 (never) for a file or a small pipe.
    static func smallReadLimit(fd: Int32, chunkSize: Int) -> Int {
        let pipeSize = Int(fcntl(fd, PGB_F_GETPIPE_SZ))
        return pipeSize >= pausingPipeSize ? min(pipeSize, chunkSize) / 8 : 0
    }

    /// Moves the reading to byte `offset` of a file (a download's range starts there). A failure is
    /// `BackupError.io` naming `name`.
    func seek(to offset: Int64) throws {
        try BackupError.mapping { try FileSystem.seek(fd, to: offset, path: name) }
    }
}
