import Foundation

/// Reads every process's /proc/PID/cmdline in a loop until stopped, remembering which programs it saw and
/// whether any command line contained a secret. Environments are not read: a child may get a password there.
final class CommandLineSampler: @unchecked Sendable {
    private let secret: [UInt8]
    private let lock = NSLock()
    private var running = true
    private var finished = DispatchSemaphore(value: 0)
    private var leaks: [String] = []
    private var programs: Set<String> = []
    private var rounds = 0

    init(secret: String) {
        self.secret = Array(secret.utf8)
        Thread { [self] in loop() }.start()
    }

    private func loop() {
        while true {
            lock.lock()
            let keepGoing = running
            lock.unlock()
            guard keepGoing else { break }
            sampleOnce()
            usleep(2_000)
        }
        finished.signal()
    }

    private func sampleOnce() {
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.filter { $0.allSatisfy(\.isNumber) } ?? []
        var seen: Set<String> = []
        var found: [String] = []
        for pid in pids {
            guard let bytes = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !bytes.isEmpty else { continue }
            let arguments = bytes.split(separator: 0)
            if let first = arguments.first {
                seen.insert(URL(fileURLWithPath: String(decoding: first, as: UTF8.self)).lastPathComponent)
            }
            if Self.contains(Array(bytes), secret) {
                found.append(String(decoding: bytes.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self))
            }
        }
        lock.lock()
        programs.formUnion(seen)
        leaks.append(contentsOf: found)
        rounds += 1
        lock.unlock()
    }

    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return true }
        }
        return false
    }

    /// Stops sampling and returns what was seen.
    func stop() -> (leaks: [String], programs: Set<String>, rounds: Int) {
        lock.lock()
        running = false
        lock.unlock()
        finished.wait()
        lock.lock()
        defer { lock.unlock() }
        return (leaks, programs, rounds)
    }
}
