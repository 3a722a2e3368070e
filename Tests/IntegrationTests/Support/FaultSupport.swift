import Foundation
import Testing

/// All fault-injection suites nest in this one, which runs them one after another: several of them time kills
/// against a running dump, and two cores shared by every suite at once would make those timings meaningless.
@Suite("Fault injection and security", .serialized)
enum FaultSuite {}

/// SplitMix64: a tiny generator with a fixed seed, so a failing kill schedule can be replayed exactly.
/// `PGBACKUP_FAULT_SEED` overrides the seed a test chose.
struct FaultRandom: RandomNumberGenerator {
    let seed: UInt64
    private var state: UInt64

    init(seed defaultSeed: UInt64) {
        let override = ProcessInfo.processInfo.environment["PGBACKUP_FAULT_SEED"].flatMap { UInt64($0) }
        seed = override ?? defaultSeed
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// One process as /proc shows it.
struct ProcEntry: Sendable {
    var pid: pid_t
    var parent: pid_t
    var command: String
    var state: Character
}

/// Reading and signalling processes through /proc, for "kill pg_dump now" and "who is running" questions.
enum FaultProc {
    static func entry(_ pid: pid_t) -> ProcEntry? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")")
        else { return nil }
        let command = String(text[text.index(after: open)..<close])
        let rest = text[text.index(after: close)...].split(separator: " ")
        guard rest.count > 2, let state = rest[0].first, let parent = pid_t(rest[1]) else { return nil }
        return ProcEntry(pid: pid, parent: parent, command: command, state: state)
    }

    static func all() -> [ProcEntry] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return names.compactMap { pid_t($0) }.compactMap(entry)
    }

    /// Live (not zombie) children of `parent`, optionally only those whose command is `command`.
    static func children(of parent: pid_t, command: String? = nil) -> [pid_t] {
        all().filter { $0.parent == parent && $0.state != "Z" && (command == nil || $0.command == command) }.map(\.pid)
    }

    /// True while `pid` exists and is not a zombie (an orphan's zombie may never be reaped in a container).
    static func isAlive(_ pid: pid_t) -> Bool {
        guard let entry = entry(pid) else { return false }
        return entry.state != "Z" && entry.state != "X"
    }

    /// The raw NUL-separated argv of `pid`; nil when it is gone.
    static func commandLine(_ pid: pid_t) -> Data? {
        FileManager.default.contents(atPath: "/proc/\(pid)/cmdline")
    }

    /// The environment `pid` was started with (readable because the tests run as root).
    static func environment(_ pid: pid_t) -> [String] {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return [] }
        return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Live processes named `command` whose environment holds `PGDATABASE=database`: pg_dump/psql runs for one
    /// test's database, whoever started them.
    static func postgresClients(_ command: String, database: String) -> [pid_t] {
        all().filter { $0.command == command && $0.state != "Z" }.map(\.pid)
            .filter { environment($0).contains("PGDATABASE=\(database)") }
    }

    /// Polls `condition` every `interval` until it holds or `timeout` passes; returns whether it held.
    @discardableResult
    static func waitUntil(
        timeout: TimeInterval, interval: useconds_t = 2_000, _ condition: () throws -> Bool
    ) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return true }
            usleep(interval)
        }
        return try condition()
    }

    /// Kills whatever is left of `command` for `database` (a dump orphaned by a killed parent).
    static func killLeftovers(_ command: String, database: String) {
        for pid in postgresClients(command, database: database) { kill(pid, SIGKILL) }
        waitUntil(timeout: 10) { postgresClients(command, database: database).isEmpty }
    }
}

extension CLITestContext {
    var partialDir: URL { backupDir.appendingPathComponent(".partial") }

    /// Names in `.partial` (in-flight or stale files).
    func partialFiles() -> [String] { FileTools.names(in: partialDir) }

    /// Size of the dump being written in `.partial`, or nil when there is none.
    func partialDumpSize() -> Int? {
        let sizes = partialFiles().filter { $0.hasSuffix(".sql.gz") }
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

    /// Names of the complete backups `list --json` shows (damaged entries left out), newest first.
    func listedNames(_ database: String) throws -> [String] {
        try list(database).filter { $0["error"] == nil }.compactMap { $0["filename"] as? String }
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
