import Foundation

/// Reads a child's stderr to EOF on its own thread, keeping only the tail.
final class StderrCollector: @unchecked Sendable {
    private let lock = NSCondition()
    private var data = [UInt8]()
    private var done = false
    private let limit = 64 * 1024

    init(fd: Int32) {
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 8192)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                lock.lock()
                data.append(contentsOf: buffer[0..<count])
                if data.count > limit { data.removeFirst(data.count - limit) }
                lock.unlock()
            }
            close(fd)
            lock.lock()
            done = true
            lock.broadcast()
            lock.unlock()
        }
        thread.name = "pgbackup-stderr"
        thread.start()
    }

    func text() -> String {
        lock.lock()
        defer { lock.unlock() }
        while !done { lock.wait() }
        return String(decoding: data, as: UTF8.self)
    }
}
