import BackupCore

/// The API's HTTP status for each failure, declared once.
extension BackupError {
    public var httpStatus: Int {
        switch self {
        case .invalidConfiguration, .io, .launchFailed, .dumpFailed, .restoreFailed, .versionMismatch, .interrupted,
             .drillNotPermitted, .encryptionFailed: 500
        case .invalidInput, .targetNotNamed: 400
        case .notFound, .jobNotFound: 404
        case .operationInProgress, .restoreBlocked, .databaseInUse: 409
        // A backup the target server cannot take as it is configured (too new a dump, too small a lock table).
        case .verificationFailed, .dumpTooNew, .drillFailed, .identityRequired, .wrongIdentity,
             .lockCapacityExceeded: 422
        case .databaseUnreachable: 503
        case .remoteFailed: 502
        case .insufficientSpace, .insufficientSpaceForSafetyBackup: 507
        }
    }
}
