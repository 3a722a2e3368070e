import BackupCore

/// The exit codes of the three programs (`pgbackup`, `pgbackup-scheduler`, `pgbackup-fcgi`), declared once:
/// 0 ok, 1 failed, 2 bad usage, input or settings, 3 busy, 4 verification or drill failed, 128 + signal interrupted.
extension BackupError {
    public var exitCode: Int32 {
        switch self {
        case let .interrupted(_, signal): 128 + signal
        case .invalidConfiguration, .invalidInput, .notFound, .jobNotFound, .targetNotNamed, .drillNotPermitted,
             .identityRequired, .wrongIdentity: 2
        case .operationInProgress: 3
        case .verificationFailed, .drillFailed: 4
        case .dumpFailed, .restoreFailed, .databaseUnreachable, .versionMismatch, .insufficientSpace, .io,
            .launchFailed, .dumpTooNew, .restoreBlocked, .insufficientSpaceForSafetyBackup, .encryptionFailed,
            .remoteFailed, .lockCapacityExceeded, .databaseInUse:
            1
        }
    }
}
