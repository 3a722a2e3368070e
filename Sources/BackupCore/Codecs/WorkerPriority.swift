import CSystem
import Foundation

/// Lowers the CPU priority of compression threads. Linux applies a nice value per thread, and a thread starts
/// with the nice value of the thread that created it, so lowering a thread also lowers every thread it starts.
enum WorkerPriority {
    /// Adds `increment` to the calling thread's nice value (capped at 19). Best effort: a thread may always
    /// lower its own priority, and nothing is lost if it cannot.
    static func lowerCurrentThread(by increment: Int32) {
        guard increment > 0 else { return }
        let thread = id_t(gettid())
        errno = 0
        let current = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), thread)
        guard errno == 0 else { return }
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), thread, min(current + increment, 19))
    }
}
