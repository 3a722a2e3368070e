import BackupCore
import CommandLineSupport
import Foundation
import Logging

/// The oneshot started by the systemd timer: decide, maybe back up and clean up, exit.
/// Exit codes are the CLI's: 0 ok (including "disabled" and "not due"), 1 failed, 2 bad configuration, 3 busy.
/// After a backup it may drill it (BACKUP_DRILL_INTERVAL_HOURS): a failed drill is logged and recorded for status
/// but leaves the exit code 0, since the backup itself was made; only a signal during the drill changes it.
@main
enum Scheduler {
    static func main() {
        signal(SIGPIPE, SIG_IGN)
        Interruption.shared.install()
        let arguments = Array(CommandLine.arguments.dropFirst())
        var envFile: String?
        if arguments == ["--help"] || arguments == ["-h"] {
            print("usage: pgbackup-scheduler [--env-file PATH]\nMakes a scheduled backup when one is due (see the README).")
            return
        }
        if arguments.count == 2, arguments[0] == "--env-file" {
            envFile = arguments[1]
        } else if !arguments.isEmpty {
            FileHandle.standardError.write(Data("usage: pgbackup-scheduler [--env-file PATH]\n".utf8))
            exit(2)
        }
        do {
            let (logger, manager) = try ServiceSetup.start(label: "pgbackup-scheduler", envFile: envFile)
            exit(run(manager, logger: logger))
        } catch let error as BackupError {
            exit(error.exitCode)
        } catch {
            FileHandle.standardError.write(Data("pgbackup-scheduler: \(error)\n".utf8))
            exit(1)
        }
    }

    /// One run, then the metrics textfile (`BACKUP_METRICS_TEXTFILE`), whatever the run's outcome.
    static func run(_ manager: BackupManager, logger: Logger) -> Int32 {
        let status = decideAndBackUp(manager, logger: logger)
        manager.writeMetricsTextfile()
        return status
    }

    /// A run that makes a backup is bracketed by healthcheck pings (`BACKUP_HEALTHCHECK_URL`): start, then
    /// success or fail. Runs that find nothing due ping nothing, so the check's period is the backup interval.
    static func decideAndBackUp(_ manager: BackupManager, logger: Logger) -> Int32 {
        var pinged = false
        func fail(_ message: String) { if pinged { manager.pingHealthcheck(.failure, message: message) } }
        do {
            switch try manager.scheduleDecision() {
            case .disabled:
                logger.info("Scheduled backups are disabled (BACKUP_ENABLED=false); nothing to do")
                return 0
            case let .notDue(last, next):
                logger.info("Backup not due: last scheduled backup \(last), next due at \(Timestamp.iso8601(next))")
                // Off-site copies that failed earlier are retried by every run, due or not.
                manager.retryPendingUploads()
                return 0
            case let .heldByFutureBackup(last, createdAt, next):
                logger.warning("Backup not due: last scheduled backup \(last) is dated in the future (\(Timestamp.iso8601(createdAt))); held off until \(Timestamp.iso8601(next)), at most one interval")
                return 0
            case let .due(reason):
                logger.info("Running scheduled backup... (\(reason))")
            }
            manager.pingHealthcheck(.start, message: "scheduled backup started")
            pinged = true
            let backup = try manager.create(description: "Automated scheduled backup", kind: .scheduled,
                                            user: "scheduler", yieldsSession: true).backup
            logger.info("✅ \(CreateResult.message): \(backup.filename) (\(String(format: "%.2f", backup.sizeMB)) MB)")
            logger.info("✅ Scheduled backup completed: \(backup.filename)")
            manager.pingHealthcheck(.success, message: "backup \(backup.filename) (\(backup.sizeBytes) bytes)")
            guard manager.drillIsDue() else { return 0 }
            if backup.encrypted && manager.configuration.ageIdentity == nil {
                // The server holds only public keys (as recommended): drills of encrypted backups run where the key is.
                logger.info("Restore drill due but skipped: \(backup.filename) is encrypted and BACKUP_AGE_IDENTITY_FILE is not set")
                return 0
            }
            return drill(backup.filename, manager, logger: logger)
        } catch let BackupError.operationInProgress(holder) {
            // Not a failure of the backup, but no backup either: recorded, and status turns unhealthy once the
            // schedule is overdue.
            let error = BackupError.operationInProgress(holder)
            manager.recordSkippedRun(reason: error.description)
            logger.error("❌ Scheduled backup skipped: \(error.description)")
            fail("scheduled backup skipped: \(error.description)")
            return error.exitCode
        } catch let error as BackupError {
            logger.error("❌ Scheduled backup failed: \(error.description)")
            if let hint = error.hint { logger.error("\(hint)") }
            fail("scheduled backup failed: \(error.description)")
            return error.exitCode
        } catch {
            logger.error("❌ Scheduled backup failed: \(error)")
            fail("scheduled backup failed: \(error)")
            return 1
        }
    }

    /// The scheduled drill of the backup this run just made: after it, so a drill never delays a backup.
    static func drill(_ name: String, _ manager: BackupManager, logger: Logger) -> Int32 {
        logger.info("Running scheduled restore drill of \(name)... (every \(manager.configuration.drillIntervalHours) h)")
        do {
            let result = try manager.drill(name, user: "scheduler")
            logger.info("✅ \(result.message)")
        } catch let error as BackupError {
            logger.error("❌ Scheduled restore drill failed: \(error.description)")
            if case .interrupted = error { return error.exitCode }
            // The backup's success was pinged already; a backup that does not restore is a failure to report.
            manager.pingHealthcheck(.failure, message: "restore drill of \(name) failed: \(error.description)")
        } catch {
            logger.error("❌ Scheduled restore drill failed: \(error)")
            manager.pingHealthcheck(.failure, message: "restore drill of \(name) failed: \(error)")
        }
        return 0
    }
}
