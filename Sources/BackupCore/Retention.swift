import Foundation

/// The retention rule, as the seed's note describes it: a backup is KEPT if it is younger than `retentionDays`
/// OR among the newest `maxCount` complete backups. The newest backup is always kept.
public enum Retention {
    public struct Candidate: Sendable, Equatable {
        public var filename: String
        public var createdAt: Date
        public init(filename: String, createdAt: Date) {
            self.filename = filename
            self.createdAt = createdAt
        }
    }

    public struct Plan: Sendable, Equatable {
        public var keep: [String]
        public var delete: [String]
    }

    /// Decides over complete backups only; orphans and damaged entries are never passed in, so never deleted.
    /// Ties on `created_at` are broken by name, so the decision does not depend on directory order.
    public static func plan(_ backups: [Candidate], retentionDays: Int, maxCount: Int, now: Date) -> Plan {
        let newestFirst = backups.sorted {
            $0.createdAt != $1.createdAt ? $0.createdAt > $1.createdAt : $0.filename > $1.filename
        }
        let cutoff = now.addingTimeInterval(-Double(retentionDays) * 86_400)
        var keep: [String] = []
        var delete: [String] = []
        for (index, backup) in newestFirst.enumerated() {
            if index == 0 || index < max(maxCount, 1) || backup.createdAt > cutoff {
                keep.append(backup.filename)
            } else {
                delete.append(backup.filename)
            }
        }
        return Plan(keep: keep, delete: delete)
    }
}
