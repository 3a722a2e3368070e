import Foundation

/// A fresh private directory `/tmp/pgbackup-PREFIX-XXXXXX` (short on purpose: unix socket paths are limited to
/// 107 bytes), removed by `remove()` or, at the latest, when the last reference to it goes away.
package final class TemporaryDirectory: Sendable {
    package let url: URL
    package var path: String { url.path }

    /// - Parameter mode: the directory's permissions; 0711 lets nginx's workers (www-data when the tests run as
    ///   root) pass through to a socket inside.
    package init(prefix: String = "test", mode: mode_t = 0o700) throws {
        var template = Array("/tmp/pgbackup-\(prefix)-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer -> Bool in
            guard let base = buffer.baseAddress else { return false }
            return mkdtemp(base) != nil
        }
        guard made else { throw HarnessError.setup("mkdtemp failed: \(String(cString: strerror(errno)))") }
        let path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        url = URL(fileURLWithPath: path, isDirectory: true)
        if mode != 0o700 { chmod(path, mode) }
    }

    deinit { remove() }

    /// Removes the directory and everything in it; safe to call twice.
    package func remove() { try? FileManager.default.removeItem(at: url) }

    package func appending(_ component: String) -> URL { url.appendingPathComponent(component) }

    /// The path of `name` inside the directory.
    package func file(_ name: String) -> String { "\(path)/\(name)" }

    @discardableResult
    package func write(_ name: String, _ text: String) throws -> String {
        try write(name, Array(text.utf8))
    }

    @discardableResult
    package func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let target = file(name)
        guard FileManager.default.createFile(atPath: target, contents: Data(bytes)) else {
            throw HarnessError.setup("cannot write \(target)")
        }
        return target
    }

    /// A directory inside, made (with its parents) if needed, with `mode`.
    package func subdirectory(_ name: String, mode: mode_t = 0o711) throws -> URL {
        let directory = appending(name)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        chmod(directory.path, mode)
        return directory
    }
}
