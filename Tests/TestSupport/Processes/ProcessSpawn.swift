import Foundation

/// The one place a test starts a child: `posix_spawn` with exactly three descriptors and a clean signal state.
///
/// Not `Foundation.Process`: on Linux it learns of a child's exit through a descriptor the child inherits, so a
/// daemon the child leaves running (pg_ctl starts the postmaster, quickstart.sh starts three, nginx forks its
/// master) keeps that descriptor open and the exit is never noticed. Here every descriptor the harness makes is
/// close-on-exec; the child gets stdin, stdout and stderr and nothing else.
package enum ProcessSpawn {
    /// Where one of the child's standard streams comes from or goes to.
    package enum Stream {
        case devNull
        /// A descriptor of ours, duplicated onto the child's stream (dup2 clears close-on-exec on the copy).
        case descriptor(Int32)
        /// A file the child opens: read for stdin; created or truncated (mode 0600) for stdout and stderr.
        case file(String)
    }

    /// Starts `executable` (an absolute path) with exactly `environment`; returns its pid.
    package static func start(
        _ executable: String, _ arguments: [String], environment: [String: String],
        stdin: Stream, stdout: Stream, stderr: Stream
    ) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (fd, stream) in [(Int32(0), stdin), (1, stdout), (2, stderr)] {
            let flags = fd == 0 ? O_RDONLY : O_WRONLY | O_CREAT | O_TRUNC
            switch stream {
            case .devNull: posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", flags, 0)
            case .descriptor(let source): posix_spawn_file_actions_adddup2(&actions, source, fd)
            case .file(let path): posix_spawn_file_actions_addopen(&actions, fd, path, flags, 0o600)
            }
        }

        // Children start with no blocked signals and default dispositions, whatever the test runner set
        // (it ignores SIGPIPE, for one).
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        sigdelset(&allSignals, SIGKILL)
        sigdelset(&allSignals, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let code = posix_spawn(&child, executable, &actions, &attributes, argv, envp)
        guard code == 0 else { throw HarnessError.cannotStart(executable, code) }
        return child
    }
}
