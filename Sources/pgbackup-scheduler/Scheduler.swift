import BackupCore
import CommandLineSupport
import Foundation
import Logging

/// The oneshot started by the systemd timer: decide, maybe back up and clean up, exit.
/// Exit codes are the CLI's: 0 ok (including "disabled" and "not due"), 1 failed, 2 bad configuration, 3 busy.
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

    static func run(_ manager: BackupManager, logger: Logger) -> Int32 {
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
            let backup = try manager.create(description: "Automated scheduled backup", kind: .scheduled,
                                            user: "scheduler", yieldsSession: true).backup
            logger.info("✅ \(CreateResult.message): \(backup.filename) (\(String(format: "%.2f", backup.sizeMB)) MB)")
            logger.info("✅ Scheduled backup completed: \(backup.filename)")
            return 0
        } catch let BackupError.operationInProgress(holder) {
            // Not a failure of the backup, but no backup either: recorded, and status turns unhealthy once the
            // schedule is overdue.
            let error = BackupError.operationInProgress(holder)
            manager.recordSkippedRun(reason: error.description)
            logger.error("❌ Scheduled backup skipped: \(error.description)")
            return error.exitCode
        } catch let error as BackupError {
            logger.error("❌ Scheduled backup failed: \(error.description)")
            if let hint = error.hint { logger.error("\(hint)") }
            return error.exitCode
        } catch {
            logger.error("❌ Scheduled backup failed: \(error)")
            return 1
        }
    }
}
