import BackupCore

/// The API's HTTP status for each failure, declared once.
extension BackupError {
    public var httpStatus: Int {
        switch self {
        case .invalidConfiguration, .io, .launchFailed, .dumpFailed, .restoreFailed, .versionMismatch, .interrupted,
             .drillNotPermitted, .encryptionFailed: 500
        case .invalidInput, .targetNotNamed: 400
        case .notFound, .jobNotFound: 404
        case .operationInProgress, .restoreBlocked: 409
        case .verificationFailed, .dumpTooNew, .drillFailed, .identityRequired, .wrongIdentity: 422
        case .databaseUnreachable: 503
        case .remoteFailed: 502
        case .insufficientSpace, .insufficientSpaceForSafetyBackup: 507
        }
    }
}
