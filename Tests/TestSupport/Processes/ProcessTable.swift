import Foundation

/// One process as /proc shows it.
package struct ProcEntry: Sendable {
    package var pid: pid_t
    package var parent: pid_t
    package var command: String
    package var state: Character
}

/// The machine's processes as /proc shows them, for "is it still running" and "who is left" questions.
package enum ProcessTable {
    package static func entry(_ pid: pid_t) -> ProcEntry? {
        guard pid > 0, let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")")
        else { return nil }
        let command = String(text[text.index(after: open)..<close])
        let rest = text[text.index(after: close)...].split(separator: " ")
        guard rest.count > 2, let state = rest[0].first, let parent = pid_t(rest[1]) else { return nil }
        return ProcEntry(pid: pid, parent: parent, command: command, state: state)
    }

    package static func all() -> [ProcEntry] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return names.compactMap { pid_t($0) }.compactMap(entry)
    }

    /// True while `pid` exists and is not a zombie (an orphan's zombie may never be reaped in a container).
    package static func isAlive(_ pid: pid_t) -> Bool {
        guard let entry = entry(pid) else { return false }
        return entry.state != "Z" && entry.state != "X"
    }

    /// The raw NUL-separated argv of `pid`; nil when it is gone.
    package static func commandLine(_ pid: pid_t) -> Data? {
        FileManager.default.contents(atPath: "/proc/\(pid)/cmdline")
    }

    /// The environment `pid` was started with (readable for our own children, and for all when root).
    package static func environment(_ pid: pid_t) -> [String] {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return [] }
        return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Live processes (this one left out) whose working directory is `directory` or below it.
    package static func working(in directory: String) -> [pid_t] {
        all().map(\.pid).filter { pid in
            guard pid != getpid(), isAlive(pid),
                  let cwd = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/cwd") else { return false }
            return cwd == directory || cwd.hasPrefix(directory + "/")
        }
    }
}
