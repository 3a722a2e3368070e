import Foundation
import Logging

/// What the two long-lived front ends (responder, scheduler) do first: log to stderr (journald adds the time
/// and unit), read the configuration, build the manager.
public enum ServiceSetup {
    /// Bootstraps logging at info level and returns the logger and the manager; a bad setting is logged and
    /// thrown so the caller exits with its code.
    public static func start(label: String, envFile: String?) throws -> (Logger, BackupManager) {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .info
            return handler
        }
        let logger = Logger(label: label)
        let environment = ProcessInfo.processInfo.environment
        do {
            let (configuration, warnings) = try Configuration.load(environment: environment, envFile: envFile)
            warnings.forEach { logger.warning("\($0)") }
            return (logger, BackupManager(configuration: configuration, logger: logger, environment: environment))
        } catch let error as BackupError {
            logger.critical("\(error.description)")
            throw error
        }
    }
}
