import TestSupport
import Testing

/// Gives a suite one PostgreSQL cluster for all its tests (startup costs about a second); the cluster is
/// destroyed when the suite ends, whatever happened.
struct PostgresClusterTrait: SuiteTrait, TestScoping {
    var isRecursive: Bool { false }

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let cluster = try PostgresCluster.start()
        defer { cluster.destroy() }
        try await SharedCluster.$current.withValue(cluster) {
            try await function()
        }
    }
}

extension Trait where Self == PostgresClusterTrait {
    /// One throwaway PostgreSQL cluster for the whole suite.
    static var postgresCluster: Self { Self() }
}

enum SharedCluster {
    @TaskLocal static var current: PostgresCluster?

    static func require() throws -> PostgresCluster {
        guard let cluster = current else {
            throw HarnessError.setup("this suite needs the .postgresCluster trait")
        }
        return cluster
    }
}
