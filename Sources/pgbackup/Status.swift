import ArgumentParser
import BackupCore
import Foundation

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show settings, the last backup, failures and health.")

    @OptionGroup var options: CommonOptions

    @Flag(help: "Exit 0 when healthy and 1 when not, printing only the reasons, one a line (with --json: the status).")
    var check = false

    func run() throws {
        let context = try Context(options)
        let status = try context.perform { try context.manager.status() }
        if check { return try printCheck(status) }
        if options.json {
            Output.json(status.json)
            return
        }
        let config = status.configuration
        print("\(status.healthy ? "✅ healthy" : "⚠️  NOT healthy")")
        for reason in status.unhealthyReasons { print("   - \(reason)") }
        print("Scheduled backups:  \(config.enabled ? "enabled" : "disabled"), every \(config.intervalHours) h")
        print("Backup directory:   \(config.backupDirectory)")
        print("Retention:          \(config.retentionDays) days or the newest \(config.maxCount)")
        print("Compression:        \(config.codec) level \(config.compressionLevel)")
        print("Backups:            \(status.summary.count) (\(Output.megabytes(status.summary.totalSizeBytes)))")
        if let last = status.lastBackup {
            print("Last backup:        \(last.filename) at \(Timestamp.iso8601(last.createdAt)) (\(last.kind?.rawValue ?? "unknown"))")
        } else {
            print("Last backup:        none")
        }
        if let failure = status.state.lastFailure {
            print("Last failure:       \(Timestamp.iso8601(failure.at)) \(failure.operation): \(failure.message)")
        }
        if let skipped = status.state.lastSkippedRun {
            print("Last skipped run:   \(Timestamp.iso8601(skipped.at)): \(skipped.reason)")
        }
        if let notification = status.state.lastNotificationError {
            print("Notification error: \(Timestamp.iso8601(notification.at)) \(notification.operation): \(notification.message)")
        }
        for previous in status.state.previousDatabases {
            print("Previous database:  \(previous.name) (of \(previous.target), swapped out \(Timestamp.iso8601(previous.at)); 'pgbackup rollback' brings it back)")
        }
        if let drill = status.state.lastDrill {
            print("Last drill:         \(drill.backup) at \(Timestamp.iso8601(drill.at)): \(drill.passed ? "passed" : "FAILED")")
        }
        if let running = status.running {
            print("Running now:        \(running.operation) (pid \(running.pid), since \(Timestamp.iso8601(running.since)))")
        }
        if !status.summary.orphans.isEmpty {
            print("Incomplete dumps:   \(status.summary.orphans.joined(separator: ", "))")
        }
        if !status.summary.damaged.isEmpty {
            print("Damaged metadata:   \(status.summary.damaged.keys.sorted().joined(separator: ", "))")
        }
        if let remote = config.remote { printRemote(remote, status.remote ?? RemoteState()) }
    }

    /// `--check`: "healthy" and exit 0, or every reason and exit 1.
    private func printCheck(_ status: BackupStatus) throws {
        if options.json {
            Output.json(status.json)
        } else {
            // One reason a line, even when a failure's message (pg_dump's stderr, say) has several.
            let reasons = status.unhealthyReasons.map { $0.split(whereSeparator: \.isNewline).joined(separator: " ") }
            print(status.healthy ? "healthy" : reasons.joined(separator: "\n"))
        }
        if !status.healthy { throw CLIFailure(exitCode: 1) }
    }

    private func printRemote(_ remote: RemoteSettings, _ state: RemoteState) {
        print("Off-site copies:    \(remote.spec), \(state.remoteBackups.count) backup(s) there, "
            + "index refreshed \(state.refreshedAt.map(Timestamp.iso8601) ?? "never")")
        print("Pending uploads:    \(state.pending.isEmpty ? "none" : state.pending.map(\.filename).joined(separator: ", "))")
        if let error = state.lastError {
            print("Last upload error:  \(Timestamp.iso8601(error.at)): \(error.message)")
        }
    }
}
