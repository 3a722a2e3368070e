import ArgumentParser
import BackupCore
import Foundation

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show settings, the last backup, failures and health.")

    @OptionGroup var options: CommonOptions

    func run() throws {
        let context = try Context(options)
        let status = try context.perform { try context.manager.status() }
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
        if let running = status.running {
            print("Running now:        \(running.operation) (pid \(running.pid), since \(Timestamp.iso8601(running.since)))")
        }
        if !status.summary.orphans.isEmpty {
            print("Incomplete dumps:   \(status.summary.orphans.joined(separator: ", "))")
        }
        if !status.summary.damaged.isEmpty {
            print("Damaged metadata:   \(status.summary.damaged.keys.sorted().joined(separator: ", "))")
        }
        if let remote = config.remote {
            let state = status.remote ?? RemoteState()
            print("Off-site copies:    \(remote.spec), \(state.remoteBackups.count) backup(s) there, "
                + "index refreshed \(state.refreshedAt.map(Timestamp.iso8601) ?? "never")")
            print("Pending uploads:    \(state.pending.isEmpty ? "none" : state.pending.map(\.filename).joined(separator: ", "))")
            if let error = state.lastError {
                print("Last upload error:  \(Timestamp.iso8601(error.at)): \(error.message)")
            }
        }
    }
}
