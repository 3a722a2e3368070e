import Foundation
import TestSupport
import Testing

/// Schemathesis generates requests from docs/openapi.yaml and checks the live stack's answers against it:
/// no 5xx for any input, only documented statuses, documented content types, and bodies that match the
/// documented schemas. Every operation is included: the stack is throwaway (its own cluster, database and
/// BACKUP_DIR), so the state-changing ones (create, restore, delete, cleanup) run too; the stateful phase
/// feeds created backups' names into download, verify, restore and delete.
@Suite("API: schemathesis against docs/openapi.yaml", .serialized, .postgresCluster)
struct SchemathesisAPITests {
    static let checks = [
        "not_a_server_error", "status_code_conformance", "content_type_conformance", "response_schema_conformance",
    ]

    /// The schemathesis CLI that deploy/dependencies.sh installs (PGBACKUP_TOOLS_VENV, else /opt/pgbackup-tools).
    static func schemathesis() throws -> String {
        let venv = ProcessInfo.processInfo.environment["PGBACKUP_TOOLS_VENV"].flatMap { $0.isEmpty ? nil : $0 }
            ?? "/opt/pgbackup-tools"
        for name in ["st", "schemathesis"] where FileManager.default.isExecutableFile(atPath: "\(venv)/bin/\(name)") {
            return "\(venv)/bin/\(name)"
        }
        throw HarnessError.setup("schemathesis is not installed in \(venv): run deploy/dependencies.sh")
    }

    @Test("the live API conforms to docs/openapi.yaml (bounded run, fixed seed)")
    func conformance() throws {
        let cluster = try SharedCluster.require()
        let db = CLITestContext.uniqueName("fuzz")
        try cluster.createDatabase(db)
        try SampleSchema.load(into: db, on: cluster)
        let stack = try NginxStack(cluster: cluster, database: db)
        defer { stack.stop() }
        let spec = try SourceTree.file("docs/openapi.yaml")
        let work = stack.scratch.appending("schemathesis")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)

        var env = RunningProcess.baseEnvironment(home: work.path)
        env["NO_COLOR"] = "1"
        // One worker: with two, hypothesis sometimes crashes in Python 3.11's `ast.parse` from two threads at once
        // ("AST constructor recursion depth mismatch", a runtime error of schemathesis, not a finding about the API).
        // `env -C` keeps schemathesis' working files (.hypothesis, .schemathesis) in the scratch directory.
        let result = try ProcessRunner.run(
            try ProcessRunner.tool("env"),
            ["-C", work.path, try Self.schemathesis(), "run", spec.path,
             "--url", stack.baseURL, "--auth", "\(stack.user):\(stack.password)", "--tls-verify", "false",
             "--checks", Self.checks.joined(separator: ","),
             "--max-examples", "5", "--seed", "20260129", "--workers", "1", "--request-timeout", "120",
             "--generation-database", "none", "--no-color",
             "--report", "junit", "--report-dir", work.path],
            environment: env, timeout: .seconds(300))
        let summary = result.out.split(separator: "\n").suffix(40).joined(separator: "\n")
        #expect(result.status == 0, "schemathesis found problems:\n\(result.out.suffix(12_000))\n\(result.err.suffix(2_000))")
        #expect(!result.timedOut)
        // It really ran: every operation of the spec was selected and tested (drill, metrics, push and sync included).
        #expect(result.out.contains("Selected: 22/22"), "\(summary)")
        #expect(result.out.contains("Tested: 22"), "\(summary)")
        #expect(result.out.contains("No issues found") || result.out.contains("warning"), "\(summary)")
    }
}
