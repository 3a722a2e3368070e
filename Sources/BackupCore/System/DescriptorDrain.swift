import Foundation

/// Reads a child's output descriptor to its end on a thread of its own, so the child never blocks on a full pipe:
/// each chunk goes to `chunk` (on that thread), then the descriptor is closed and `ended` is called. The thread
/// owns the descriptor from here on.
enum DescriptorDrain {
    /// - Parameter bufferSize: the largest chunk; a stream of data (age's output) reads in bigger ones than stderr.
    static func start(fd: Int32, threadName: String, bufferSize: Int = 8192,
                      chunk: @escaping @Sendable (ArraySlice<UInt8>) -> Void, ended: @escaping @Sendable () -> Void) {
        let thread = Thread {
            var buffer = [UInt8](repeating: 0, count: bufferSize)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                chunk(buffer[0..<count])
            }
            close(fd)
            ended()
        }
        thread.name = threadName
        thread.start()
    }
}
