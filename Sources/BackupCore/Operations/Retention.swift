import Foundation

/// The retention rule, per database: a backup is KEPT if it is younger than `retentionDays` OR among the newest
/// `maxCount` complete backups of its own database, and the newest backup of every database is always kept.
/// One database's backups never push out another's (issue 16: a busy staging database used to expire production).
///
/// `plan` is a pure function of (backups, now, days, count) on purpose: the local cleanup calls it, and a remote
/// retention (off-site copies, `BACKUP_REMOTE_RETENTION_DAYS`/`BACKUP_REMOTE_MAX_COUNT`) must call the same function
/// with the remote's backups and settings rather than write the rule a second time.
public enum Retention {
    public struct Candidate: Sendable, Equatable {
        public var filename: String
        public var createdAt: Date
        /// The group the rule is applied in; see `BackupMetadata.retentionDatabase`.
        public var database: String
        public init(filename: String, createdAt: Date, database: String = "") {
            self.filename = filename
            self.createdAt = createdAt
            self.database = database
        }
    }

    /// What happens to one database's backups, newest first in both lists.
    public struct DatabasePlan: Sendable, Equatable {
        public var database: String
        public var keep: [String]
        public var delete: [String]
    }

    public struct Plan: Sendable, Equatable {
        /// Every database's kept and deleted backups together, newest first.
        public var keep: [String]
        public var delete: [String]
        /// The same, one entry per database, ordered by database name.
        public var databases: [DatabasePlan]
    }

    /// Decides over complete backups only; orphans and damaged entries are never passed in, so never deleted.
    /// Ties on `created_at` are broken by name, so the decision does not depend on directory order.
    public static func plan(_ backups: [Candidate], retentionDays: Int, maxCount: Int, now: Date) -> Plan {
        let newestFirst = backups.sorted(by: isNewer)
        let cutoff = now.addingTimeInterval(-Double(retentionDays) * 86_400)
        var seen: [String: Int] = [:]
        var keep: Set<String> = []
        for backup in newestFirst {
            // The position of this backup among its own database's backups, newest = 0.
            let index = seen[backup.database, default: 0]
            seen[backup.database] = index + 1
            if index == 0 || index < max(maxCount, 1) || backup.createdAt > cutoff { keep.insert(backup.filename) }
        }
        let databases = Dictionary(grouping: newestFirst, by: \.database).keys.sorted().map { database in
            let own = newestFirst.filter { $0.database == database }.map(\.filename)
            return DatabasePlan(database: database, keep: own.filter(keep.contains), delete: own.filter { !keep.contains($0) })
        }
        let all = newestFirst.map(\.filename)
        return Plan(keep: all.filter(keep.contains), delete: all.filter { !keep.contains($0) }, databases: databases)
    }

    static func isNewer(_ a: Candidate, _ b: Candidate) -> Bool {
        a.createdAt != b.createdAt ? a.createdAt > b.createdAt : a.filename > b.filename
    }
}
