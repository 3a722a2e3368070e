import Foundation

extension BackupManager {
    /// What a cleanup deleted (or would delete) and kept, overall and per database.
    public struct CleanupResult: Sendable, Equatable {
        public var deleted: [String]
        public var kept: [String]
        /// One entry per database in the directory, by database name; retention is applied within each.
        public var databases: [Retention.DatabasePlan]
        public var dryRun: Bool
        /// Backups retention would delete but keeps: still pending upload, they are the only copy.
        public var pendingUpload: [String] = []

        /// The guide's `success`, `deleted` (names) and `kept` (a count) stay as they were; `databases` adds the
        /// breakdown, with the names kept and deleted in each database.
        public var json: JSON {
            .object([
                ("success", .bool(true)),
                ("message", .string(dryRun ? "Would delete \(deleted.count) backup(s)" : "Deleted \(deleted.count) backup(s)")),
                ("dry_run", .bool(dryRun)),
                ("deleted", .array(deleted.map(JSON.string))),
                ("kept", .int(Int64(kept.count))),
                ("databases", .array(databases.map { plan in
                    .object([
                        ("database", .string(plan.database)),
                        ("kept", .array(plan.keep.map(JSON.string))),
                        ("deleted", .array(plan.delete.map(JSON.string))),
                    ])
                })),
            ] + (pendingUpload.isEmpty ? [] : [("kept_pending_upload", .array(pendingUpload.map(JSON.string)))]))
        }
    }

    /// One log line per database, so the scheduler's journal says what each database kept and lost.
    func logRetention(_ result: CleanupResult) {
        if !result.pendingUpload.isEmpty {
            logger.warning("retention kept backups still pending upload (the only copy)", metadata: [
                "kept": "\(result.pendingUpload.joined(separator: ","))"])
        }
        for plan in result.databases {
            logger.info(result.dryRun ? "retention would apply" : "retention applied", metadata: [
                "database": "\(plan.database)", "kept": "\(plan.keep.count)",
                "deleted": "\(plan.delete.isEmpty ? "-" : plan.delete.joined(separator: ","))"])
        }
    }
}
