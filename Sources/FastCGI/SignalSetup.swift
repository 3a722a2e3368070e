import CFastCGI
import Glibc
import Synchronization

/// Process-wide signal dispositions around libfcgi.
enum SignalSetup {
    private static let initialisation = Mutex(())

    /// Runs `FCGX_Init` without letting it keep the handlers it installs over default dispositions
    /// (SIGTERM and SIGUSR1 would only set its shutdown flag, so an idle process no longer stops, and
    /// its accept then fails for ever), and ignores SIGPIPE so a client that went away is an error
    /// code on write, not the death of the process.
    static func initialiseLibrary() throws {
        let code: Int32 = initialisation.withLock { _ in
            let watched = [SIGTERM, SIGINT, SIGUSR1, SIGHUP, SIGPIPE]
            var saved: [Int32: sigaction] = [:]
            for number in watched {
                var action = sigaction()
                sigaction(number, nil, &action)
                saved[number] = action
            }
            let code = FCGX_Init()
            for (number, action) in saved {
                var previous = action
                sigaction(number, &previous, nil)
            }
            signal(SIGPIPE, SIG_IGN)
            return code
        }
        guard code == 0 else { throw FastCGIError.libraryInitFailed(code: code) }
    }

    /// A DispatchSource receives the signal only once the default action (termination) is out of the way.
    static func ignoreTermination() {
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
    }

    /// After `run()` a second SIGTERM terminates the process as usual.
    static func restoreTermination() {
        signal(SIGTERM, SIG_DFL)
        signal(SIGINT, SIG_DFL)
    }
}
