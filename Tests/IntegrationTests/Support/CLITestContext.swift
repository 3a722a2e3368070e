import Foundation
import TestSupport
import Testing

/// Per-test state for CLI tests: the suite's cluster, a private BACKUP_DIR, an empty env file (so a
/// machine-wide /etc/pgbackup/pgbackup.env never leaks in) and a HOME without a ~/.pgpass.
final class CLITestContext: @unchecked Sendable {
    let cluster: PostgresCluster
    let scratch: TemporaryDirectory
    let backupDir: URL
    let envFile: URL
    let home: URL

    init() throws {
        cluster = try SharedCluster.require()
        scratch = try TemporaryDirectory(prefix: "cli")
        // A space in the path, so every test also proves paths are never split or shell-quoted.
        backupDir = scratch.appending("backup dir")
        envFile = scratch.appending("empty.env")
        home = scratch.appending("home")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        try Data().write(to: envFile)
    }

    func remove() { scratch.remove() }

    /// A database name unique to this test run (names end up in backup file names).
    static func uniqueName(_ stem: String) -> String {
        let letters = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return stem + "_" + String((0..<6).map { _ in letters.randomElement() ?? "x" })
    }

    /// A new database with the sample schema loaded.
    func sampleDatabase(_ stem: String) throws -> String {
        let name = Self.uniqueName(stem)
        try cluster.createDatabase(name)
        try SampleSchema.load(into: name, on: cluster)
        return name
    }

    func emptyDatabase(_ stem: String) throws -> String {
        let name = Self.uniqueName(stem)
        try cluster.createDatabase(name)
        return name
    }

    func environment(database: String, extra: [String: String] = [:]) -> [String: String] {
        var env = RunningProcess.baseEnvironment(home: home.path)
        env.merge(cluster.environment(database: database)) { _, new in new }
        env["BACKUP_DIR"] = backupDir.path
        env["PGBACKUP_ENV_FILE"] = envFile.path
        env.merge(extra) { _, new in new }
        return env
    }

    /// Runs `pgbackup ARGS` against `database` and waits for it.
    func pgbackup(
        _ arguments: [String], database: String, env extra: [String: String] = [:], stdin: Data? = nil,
        timeout: Duration = .seconds(180)
    ) throws -> ProcessResult {
        try ProcessRunner.run(
            try Binaries.pgbackup(), arguments, environment: environment(database: database, extra: extra),
            stdin: stdin, timeout: timeout)
    }

    /// Runs pgbackup on a pseudo-terminal (script(1)), typing `answer` at it.
    func onTerminal(_ arguments: [String], database: String, answer: String) throws -> ProcessResult {
        let command = ([try Binaries.pgbackup()] + arguments).map { "'\($0)'" }.joined(separator: " ")
        return try ProcessRunner.run(
            try ProcessRunner.tool("script"), ["-q", "-e", "-c", command, "/dev/null"],
            environment: environment(database: database).merging(["SHELL": "/bin/sh"]) { _, new in new },
            stdin: Data((answer + "\n").utf8), timeout: .seconds(120))
    }

    func startPgbackup(_ arguments: [String], database: String, env extra: [String: String] = [:]) throws -> RunningProcess {
        try RunningProcess(try Binaries.pgbackup(), arguments, environment: environment(database: database, extra: extra))
    }

    /// `pgbackup create --json`, which must succeed; returns the new backup's file name.
    @discardableResult
    func create(
        _ database: String, description: String = "integration test", env extra: [String: String] = [:],
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> String {
        let result = try pgbackup(["create", "-d", description, "--json"], database: database, env: extra)
        try #require(result.status == 0, "create failed: \(result)", sourceLocation: sourceLocation)
        let answer = try JSON.object(result.stdout)
        #expect(answer["success"] as? Bool == true, sourceLocation: sourceLocation)
        let backup = try #require(answer["backup"] as? [String: Any], "no backup object in \(result.out)", sourceLocation: sourceLocation)
        let name = try #require(backup["filename"] as? String, sourceLocation: sourceLocation)
        #expect(BackupName.isValid(name), "generated name \(name)", sourceLocation: sourceLocation)
        #expect(name.hasPrefix("backup_\(database)_"), sourceLocation: sourceLocation)
        #expect(FileManager.default.fileExists(atPath: backupURL(name).path), sourceLocation: sourceLocation)
        #expect(FileManager.default.fileExists(atPath: sidecarURL(name).path), sourceLocation: sourceLocation)
        return name
    }

    /// `pgbackup list --json`, which must succeed.
    func list(_ database: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [[String: Any]] {
        let result = try pgbackup(["list", "--json"], database: database)
        try #require(result.status == 0, "list failed: \(result)", sourceLocation: sourceLocation)
        return try JSON.array(result.stdout)
    }

    func status(_ database: String, env extra: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let result = try pgbackup(["status", "--json"], database: database, env: extra)
        try #require(result.status == 0, "status failed: \(result)", sourceLocation: sourceLocation)
        return try JSON.object(result.stdout)
    }

    func backupURL(_ name: String) -> URL { backupDir.appendingPathComponent(name) }
    func sidecarURL(_ name: String) -> URL { backupDir.appendingPathComponent(name + ".json") }

    /// Complete and incomplete dump files in BACKUP_DIR (`backup_*.sql.gz` and `backup_*.sql.zst`, and either
    /// with `.age`), sorted.
    func dumpFiles() -> [String] {
        FileTools.names(in: backupDir).filter { name in
            name.hasPrefix("backup_") && [".sql.gz", ".sql.zst", ".sql.gz.age", ".sql.zst.age"].contains { name.hasSuffix($0) }
        }
    }

    /// Everything in BACKUP_DIR and .partial, for "nothing changed" assertions.
    func directorySnapshot() -> [String] {
        FileTools.names(in: backupDir) + FileTools.names(in: backupDir.appendingPathComponent(".partial")).map { ".partial/" + $0 }
    }

    /// Moves a backup's `created_at` into the past, as if it had been made `days` ago (retention and
    /// health read the sidecar, never file times).
    func ageBackup(_ name: String, days: Double) throws {
        var metadata = try sidecar(name)
        metadata["created_at"] = TimeText.iso8601(Date().addingTimeInterval(-days * 86_400))
        try JSON.write(metadata, to: sidecarURL(name))
    }

    /// Moves a real backup to the name and `created_at` it would have had `hours` ago (negative: ahead), with the
    /// same bytes so it still verifies; `kind` rewrites the sidecar's kind too. Returns the new name.
    func backdate(_ name: String, database: String, hours: Double, kind: String? = nil) throws -> String {
        let stamp = TimeText.iso8601(Date().addingTimeInterval(-hours * 3600))
        let digits = stamp.filter(\.isNumber)
        let timestamp = "\(digits.prefix(8))_\(digits.dropFirst(8).prefix(6))"
        let suffix = name.hasSuffix(".sql.zst") ? ".sql.zst" : ".sql.gz"
        let moved = "backup_\(database)_\(timestamp)\(suffix)"
        var metadata = try sidecar(name)
        metadata["filename"] = moved
        metadata["timestamp"] = timestamp
        metadata["created_at"] = stamp
        if let kind { metadata["kind"] = kind }
        try FileManager.default.moveItem(at: backupURL(name), to: backupURL(moved))
        try JSON.write(metadata, to: sidecarURL(moved))
        chmod(sidecarURL(moved).path, 0o600)
        try FileManager.default.removeItem(at: sidecarURL(name))
        return moved
    }

    func sidecar(_ name: String) throws -> [String: Any] {
        try JSON.object(try Data(contentsOf: sidecarURL(name)))
    }
}

/// The one name rule from DESIGN.md, used to check generated names.
enum BackupName {
    static func isValid(_ name: String) -> Bool {
        name.wholeMatch(of: /backup_[A-Za-z0-9_.\-]+_[0-9]{8}_[0-9]{6}(_[0-9]+)?\.sql\.(gz|zst)(\.age)?/) != nil
    }
}

enum JSON {
    static func parse(_ data: Data) throws -> Any {
        do {
            return try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw HarnessError.setup("not JSON (\(error)): \(String(decoding: data.prefix(2_000), as: UTF8.self))")
        }
    }

    static func object(_ data: Data) throws -> [String: Any] {
        guard let object = try parse(data) as? [String: Any] else {
            throw HarnessError.setup("not a JSON object: \(String(decoding: data.prefix(2_000), as: UTF8.self))")
        }
        return object
    }

    static func array(_ data: Data) throws -> [[String: Any]] {
        guard let array = try parse(data) as? [[String: Any]] else {
            throw HarnessError.setup("not a JSON array of objects: \(String(decoding: data.prefix(2_000), as: UTF8.self))")
        }
        return array
    }

    static func write(_ object: [String: Any], to url: URL) throws {
        try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]).write(to: url)
    }

    /// A number from JSON as Int, whether it was encoded as an integer or a float.
    static func int(_ value: Any?) -> Int? {
        (value as? NSNumber)?.intValue
    }

    static func double(_ value: Any?) -> Double? {
        (value as? NSNumber)?.doubleValue
    }
}
