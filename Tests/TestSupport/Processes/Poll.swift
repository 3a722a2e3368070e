import Foundation

/// Waiting for something another process does.
package enum Poll {
    /// Checks `condition` every `interval` microseconds until it holds or `timeout` seconds pass, then once more;
    /// returns whether it held.
    @discardableResult
    package static func until(
        timeout: TimeInterval, interval: useconds_t = 2_000, _ condition: () throws -> Bool
    ) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return true }
            usleep(interval)
        }
        return try condition()
    }
}
