import Foundation

/// Reads a child's output descriptor to its end on a thread of its own, so the child never blocks on a full pipe:
/// each chunk goes to `chunk` (on that thread), then the descriptor is closed and `ended` is called. The thread
/// owns the descriptor from here on.
enum DescriptorDrain {
    static func start(fd: Int32, threadName: String, chunk: @escaping @Sendable (ArraySlice<UInt8>) -> Void,
                      ended: @escaping @Sendable () -> Void) {
        let thread = Thread {
            var buffer = [UInt8](repeating: 0, count: 8192)
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
