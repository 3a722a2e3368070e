import Foundation

/// A table lock held by a psql session of the harness.
package final class TableLock: @unchecked Sendable {
    private let cluster: PostgresCluster
    private let session: RunningProcess
    private let applicationName: String

    package init(cluster: PostgresCluster, session: RunningProcess, applicationName: String) {
        self.cluster = cluster
        self.session = session
        self.applicationName = applicationName
    }

    /// Ends the session's backend (which releases the lock at once) and reaps psql. Safe to call twice.
    package func release() {
        if session.isRunning {
            _ = try? cluster.psql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '\(applicationName)'")
        }
        _ = session.wait(timeout: .seconds(10))
    }
}
