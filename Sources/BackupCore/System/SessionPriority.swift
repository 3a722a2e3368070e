import Foundation

/// Lowers the CPU weight of a backup that runs in a session of its own.
///
/// Linux shares the CPU between sessions (autogroups) before it looks at any thread's nice value, so the nice +10
/// of the compression threads only counts against other work in the same session. A backup that leads its own
/// session — an async job (pgbackup starts those with setsid) or a service started by systemd — lowers the whole
/// session with `/proc/self/autogroup`: then nginx, the responder and the database's clients go first while it
/// runs (measured with a create running: status p99 129 ms → 21 ms). A CLI run from a shell is left alone: its
/// session is the operator's. Under a cgroup with its own CPU controller autogroups do not apply; there the
/// scheduler unit's `CPUWeight=` does the same.
enum SessionPriority {
    static let autogroupNice = 10

    /// Best effort; returns whether the session's weight was lowered.
    static func yieldIfSessionLeader() -> Bool {
        guard getsid(0) == getpid() else { return false }
        let fd = open("/proc/self/autogroup", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let text = Array(String(autogroupNice).utf8)
        return text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == text.count
    }
}
