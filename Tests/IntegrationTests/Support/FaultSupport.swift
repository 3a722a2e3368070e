import Foundation
import TestSupport
import Testing

/// All fault-injection suites nest in this one, which runs them one after another: several of them time kills
/// against a running dump, and two cores shared by every suite at once would make those timings meaningless.
@Suite("Fault injection and security", .serialized)
enum FaultSuite {}

/// SplitMix64 from a fixed seed, so a failing kill schedule can be replayed exactly.
/// `PGBACKUP_FAULT_SEED` overrides the seed a test chose.
struct FaultRandom: RandomNumberGenerator {
    let seed: UInt64
    private var generator: SplitMix64

    init(seed defaultSeed: UInt64) {
        let override = ProcessInfo.processInfo.environment["PGBACKUP_FAULT_SEED"].flatMap { UInt64($0) }
        seed = override ?? defaultSeed
        generator = SplitMix64(state: seed)
    }

    mutating func next() -> UInt64 { generator.next() }
}

/// Fault-test questions about processes (on top of `ProcessTable`): "kill pg_dump now", "who is still running".
enum FaultProc {
    /// Live (not zombie) children of `parent`, optionally only those whose command is `command`.
    static func children(of parent: pid_t, command: String? = nil) -> [pid_t] {
        ProcessTable.all().filter { $0.parent == parent && $0.state != "Z" && (command == nil || $0.command == command) }.map(\.pid)
    }

    /// Live processes named `command` whose environment holds `PGDATABASE=database`: pg_dump/psql runs for one
    /// test's database, whoever started them.
    static func postgresClients(_ command: String, database: String) -> [pid_t] {
        ProcessTable.all().filter { $0.command == command && $0.state != "Z" }.map(\.pid)
            .filter { ProcessTable.environment($0).contains("PGDATABASE=\(database)") }
    }

    /// Kills whatever is left of `command` for `database` (a dump orphaned by a killed parent).
    static func killLeftovers(_ command: String, database: String) {
        for pid in postgresClients(command, database: database) { kill(pid, SIGKILL) }
        Poll.until(timeout: 10) { postgresClients(command, database: database).isEmpty }
    }
}

extension CLITestContext {
    var partialDir: URL { backupDir.appendingPathComponent(".partial") }

    /// Names in `.partial` (in-flight or stale files).
    func partialFiles() -> [String] { FileTools.names(in: partialDir) }

    /// Size of the dump being written in `.partial`, or nil when there is none.
    func partialDumpSize() -> Int? {
        let sizes = partialFiles().filter { $0.hasSuffix(".sql.gz") || $0.hasSuffix(".sql.zst") }
            .compactMap { try? FileTools.size(partialDir.appendingPathComponent($0)) }
        return sizes.max()
    }

    /// Runs `pgbackup-scheduler` for `database` (a oneshot, like the systemd timer starts it).
    func scheduler(database: String, env extra: [String: String] = [:]) throws -> ProcessResult {
        try ProcessRunner.run(try Binaries.path("pgbackup-scheduler"), [],
                              environment: environment(database: database, extra: extra), timeout: .seconds(180))
    }

    func startScheduler(database: String, env extra: [String: String] = [:]) throws -> RunningProcess {
        try RunningProcess(try Binaries.path("pgbackup-scheduler"), [], environment: environment(database: database, extra: extra))
    }

    /// A database big enough that a dump takes a second or so and its gzip is several MiB: the sample schema plus
    /// `rows` rows of hex text (which gzip only halves), so the partial file grows steadily while pg_dump runs.
    func bulkDatabase(_ stem: String, rows: Int = 300_000) throws -> String {
        let name = try sampleDatabase(stem)
        try cluster.psql(
            """
            CREATE TABLE bulk (id int PRIMARY KEY, a text NOT NULL, b text NOT NULL);
            INSERT INTO bulk SELECT g, md5(g::text), md5((g * 31)::text) FROM generate_series(1, \(rows)) g;
            """, database: name)
        return name
    }

    /// A new database cloned from a template with the sample schema (made once per cluster): much faster than
    /// loading the schema again.
    func sampleCopy(_ stem: String) throws -> String {
        try clone(FaultTemplates.shared.template("fault_sample_template", on: cluster) { name in
            try cluster.createDatabase(name)
            try SampleSchema.load(into: name, on: cluster)
        }, stem)
    }

    /// Like `bulkDatabase`, cloned from a template made once per cluster and row count.
    func bulkCopy(_ stem: String, rows: Int = 300_000) throws -> String {
        try clone(FaultTemplates.shared.template("fault_bulk_\(rows)_template", on: cluster) { name in
            try cluster.createDatabase(name)
            try SampleSchema.load(into: name, on: cluster)
            try cluster.psql(
                """
                CREATE TABLE bulk (id int PRIMARY KEY, a text NOT NULL, b text NOT NULL);
                INSERT INTO bulk SELECT g, md5(g::text), md5((g * 31)::text) FROM generate_series(1, \(rows)) g;
                """, database: name)
        }, stem)
    }

    private func clone(_ template: String, _ stem: String) throws -> String {
        let name = Self.uniqueName(stem)
        try cluster.psql("CREATE DATABASE \"\(name)\" TEMPLATE \"\(template)\"")
        return name
    }

    /// Whether a listed entry has a local copy (with off-site copies on, `list` also shows remote-only backups).
    static func isLocal(_ entry: [String: Any]) -> Bool {
        (entry["locations"] as? [String])?.contains("local") ?? true
    }

    /// Names of the complete local backups `list --json` shows (damaged entries left out), newest first.
    func listedNames(_ database: String) throws -> [String] {
        try list(database).filter { $0["error"] == nil && Self.isLocal($0) }.compactMap { $0["filename"] as? String }
    }
}

/// Template databases already made, per cluster (a cluster lives as long as its suite).
final class FaultTemplates: @unchecked Sendable {
    static let shared = FaultTemplates()
    private let lock = NSLock()
    private var made: Set<String> = []

    func template(_ name: String, on cluster: PostgresCluster, make: (String) throws -> Void) throws -> String {
        lock.lock()
        defer { lock.unlock() }
        let key = "\(cluster.socketDir.path)#\(name)"
        if !made.contains(key) {
            try make(name)
            made.insert(key)
        }
        return name
    }
}

extension ProcessResult {
    /// The JSON object on stdout (for `--json` runs).
    func jsonObject() throws -> [String: Any] { try JSON.object(stdout) }
}
