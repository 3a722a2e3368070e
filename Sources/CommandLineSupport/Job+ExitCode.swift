import BackupCore

extension Job {
    /// The exit code of the process that ran this job (`pgbackup-fcgi --run-job`): 0 when it succeeded,
    /// 128 + `signal` when a stop signal ended it, else 1. A verification failure is 1 here: the job failed, and
    /// its record says how.
    public func exitCode(interruptedBy signal: Int32?) -> Int32 {
        if state == .succeeded { return 0 }
        if state == .failed, let signal { return 128 + signal }
        return 1
    }

    /// A `--run-job` naming no job that can be read: bad usage.
    public static let noSuchJobExitCode: Int32 = 2
}
