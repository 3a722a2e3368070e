import Foundation
import TestSupport
import Testing

/// CI runs the benchmark once at its tiny size, only to prove that it works end to end: the script exits 0,
/// prints every row of its report with figures in it, and leaves no process or scratch directory behind.
/// No timing is asserted; the figures of a tiny database on a shared CI machine mean nothing.
@Suite("Benchmark smoke run")
struct BenchmarkSmokeTests {
    /// Rows the report must hold, as they start (the create and restore rows, then the API rows).
    static let timedRows = [
        "| `pg_dump \\| gzip -6` (baseline) |",
        "| `pg_dump \\| pigz -6` (",
        "| `pg_dump -Fc` |",
        "| `pgbackup create` |",
        "| `pg_dump \\| zstd -3 -T0` (",
        "| `pgbackup create` with `BACKUP_COMPRESSION=zstd` (level 3)",
        "| `pgbackup create` (gzip, plain, in this suite) |",
        "| `pgbackup create` with `BACKUP_AGE_RECIPIENTS_FILE` (gzip + age) |",
        "| `pg_dump > /dev/null` |",
        "| `pg_dump > file` |",
        "| `gzip -6 < file > /dev/null` |",
        "| `pigz -6 -p ",
        "| `zstd -3 -T0 < file > /dev/null` (",
        "| `sha256sum backup.sql.gz` |",
        "| `gunzip -c backup.sql.gz > /dev/null` |",
        "| `pgbackup verify` |",
        "| `zstd -dc backup.sql.zst > /dev/null`",
        "| `pgbackup verify` of the zstd backup",
        "| `gunzip -c f \\| psql -q -X -v ON_ERROR_STOP=1` (baseline) |",
        "| `pgbackup restore --no-safety-backup --yes` |",
        "| `pgbackup drill` (`BACKUP_RESTORE_JOBS=1`; loads, then counts every table) |",
        "| `pgbackup drill` (default: ",
        "| `pgbackup restore --swap` (default: ",
        "| `zstd -dc f \\| psql -q -X -v ON_ERROR_STOP=1` (baseline)",
        "| `pgbackup restore --no-safety-backup --yes` of the zstd backup",
    ]
    static let apiRows = [
        "| GET /api/backups | idle |",
        "| GET /api/backups/status | idle |",
        "| GET /api/backups | busy |",
        "| GET /api/backups/status | busy |",
    ]

    /// The targets of issue 11 (DESIGN.md's performance section), each a row of the report's targets table.
    static let targets = [
        "| create, gzip ≤ 0.45 × `pg_dump \\| gzip -6` |",
        "| create, gzip: size ≤ 1.01 × gzip -6's |",
        "| create, zstd ≤ 0.35 × `pg_dump \\| gzip -6` |",
        "| create, zstd ≤ 1.25 × `pg_dump > /dev/null` |",
        "| create, zstd: size ≤ 0.80 × gzip -6's |",
        "| restore, gzip ≤ 1.0 × `gunzip -c \\| psql` |",
        "| restore, zstd ≤ 1.0 × `zstd -dc \\| psql` |",
        "| verify ≤ 0.25 × `gunzip -c FILE > /dev/null` (the same gzip file) |",
        "| list idle p99 ≤ 20 ms |",
        "| status busy p99 ≤ 20 ms |",
        "| restore --swap ≤ 0.75 × `gunzip -c \\| psql` |",
        "| peak RSS ≤ 64 MiB: create gzip/zstd, verify gzip/zstd, restore gzip/zstd, restore --swap, responder |",
        "| create with age ≤ 1.10 × create without (the same run) |",
        "| create with age: peak RSS ≤ 64 MiB |",
    ]

    @Test("run.sh --size tiny exits 0, prints every row and cleans up", .timeLimit(.minutes(10)))
    func tinyRun() throws {
        let run = try BenchmarkRun.tiny()
        #expect(run.status == 0, "run.sh exited \(run.status); its stderr ends with:\n\(run.stderrTail)")

        let lines = run.stdout.split(separator: "\n").map(String.init)
        for prefix in Self.timedRows {
            let row = try #require(lines.first { $0.hasPrefix(prefix) }, "no row \(prefix) in:\n\(run.stdout)")
            let cells = Self.cells(row)
            // operation | wall s | runs s | ratio | output | size ratio | RSS | CPU | server CPU | load
            #expect(cells.count == 10, "row \(row)")
            #expect(Double(cells[1]).map { $0 > 0 } == true, "no wall time in \(row)")
            #expect(Double(cells[6]).map { $0 > 0 } == true, "no peak RSS in \(row)")
        }
        for prefix in Self.apiRows {
            let row = try #require(lines.first { $0.hasPrefix(prefix) }, "no row \(prefix) in:\n\(run.stdout)")
            let cells = Self.cells(row)
            #expect(cells.count == 10, "row \(row)")
            #expect(Int(cells[2]) != nil, "no request count in \(row)")
            #expect(cells[7].hasPrefix("0 non-2xx"), "the API answered with errors: \(row)")
        }
        for target in Self.targets {
            #expect(run.stdout.contains(target), "no target row \(target) in:\n\(run.stdout)")
        }
        #expect(run.stdout.contains("Responder (pgbackup-fcgi, 8 workers) peak RSS:"))

        let scratch = try #require(run.scratchDirectory, "run.sh did not name its scratch directory")
        #expect(!FileManager.default.fileExists(atPath: scratch), "\(scratch) was left behind")
        #expect(BenchmarkRun.processes(mentioning: scratch).isEmpty, "processes left running: \(BenchmarkRun.processes(mentioning: scratch))")
    }

    /// The cells of a markdown table row, trimmed; `\|` inside a cell is not a separator.
    static func cells(_ row: String) -> [String] {
        let protected = row.replacingOccurrences(of: "\\|", with: "\u{1}")
        return protected.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast()
            .map { $0.replacingOccurrences(of: "\u{1}", with: "\\|").trimmingCharacters(in: .whitespaces) }
    }
}

/// One run of Benchmarks/run.sh, its output in files: the nginx and PostgreSQL it starts hold no pipe of ours.
private struct BenchmarkRun {
    let status: Int32
    let stdout: String
    let stderr: String

    var stderrTail: String { stderr.split(separator: "\n").suffix(30).joined(separator: "\n") }

    /// run.sh says "scratch directory DIR" on stderr.
    var scratchDirectory: String? {
        stderr.split(separator: "\n").compactMap { line -> String? in
            guard let range = line.range(of: "scratch directory ") else { return nil }
            return String(line[range.upperBound...]).trimmingCharacters(in: .whitespaces)
        }.first
    }

    static func tiny() throws -> BenchmarkRun {
        let logs = try TemporaryDirectory(prefix: "benchmark-smoke")
        defer { logs.remove() }
        let script = SourceTree.root.appendingPathComponent("Benchmarks/run.sh").path
        // The binaries `swift test` just built: no release build inside a test run.
        let process = try LoggedProcess(
            "/bin/bash", [script, "--size", "tiny", "--bin-dir", Binaries.directory.path], in: logs.url, name: "run")
        let result = process.finish(timeout: 600)
        return BenchmarkRun(status: result.status, stdout: result.out, stderr: result.err)
    }

    /// Command lines of live processes that mention `path` (the benchmark's nginx, PostgreSQL, responder).
    static func processes(mentioning path: String) -> [String] {
        ProcessTable.all().compactMap { entry -> String? in
            guard let data = ProcessTable.commandLine(entry.pid) else { return nil }
            let command = String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
            return command.contains(path) ? "\(entry.pid): \(command)" : nil
        }
    }
}
