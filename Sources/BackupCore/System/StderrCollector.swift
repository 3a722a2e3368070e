import Foundation

/// Reads a child's stderr to EOF on its own thread, keeping only the tail.
final class StderrCollector: @unchecked Sendable {
    private let lock = NSCondition()
    private var data = [UInt8]()
    private var done = false
    private let limit = 64 * 1024

    init(fd: Int32, observer: (@Sendable (ArraySlice<UInt8>) -> Void)? = nil) {
        DescriptorDrain.start(fd: fd, threadName: "pgbackup-stderr", chunk: { [self] bytes in
            observer?(bytes)
            lock.lock()
            data.append(contentsOf: bytes)
            if data.count > limit { data.removeFirst(data.count - limit) }
            lock.unlock()
        }, ended: { [self] in
            lock.lock()
            done = true
            lock.broadcast()
            lock.unlock()
        })
    }

    func text() -> String {
        lock.lock()
        defer { lock.unlock() }
        while !done { lock.wait() }
        return String(decoding: data, as: UTF8.self)
    }
}
