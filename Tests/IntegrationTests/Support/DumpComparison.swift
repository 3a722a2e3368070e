import Foundation
import TestSupport
import Testing

/// Compares plain pg_dump output of two databases (or one database at two times).
enum DumpComparison {
    /// Drops comment lines, blank lines and the per-dump random `\restrict`/`\unrestrict` keys.
    static func normalise(_ dump: String) -> String {
        dump.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { line in
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                return !trimmed.isEmpty && !trimmed.hasPrefix("--")
                    && !trimmed.hasPrefix("\\restrict") && !trimmed.hasPrefix("\\unrestrict")
            }
            .joined(separator: "\n")
    }

    /// A short unified diff (at most `limit` lines) of two normalised dumps, made by diff(1).
    static func shortDiff(_ expected: String, _ actual: String, limit: Int = 60) -> String {
        guard let scratch = try? TemporaryDirectory(prefix: "diff") else { return "(could not make a temp dir for diff)" }
        defer { scratch.remove() }
        let left = scratch.appending("expected.sql")
        let right = scratch.appending("actual.sql")
        do {
            try Data((expected + "\n").utf8).write(to: left)
            try Data((actual + "\n").utf8).write(to: right)
            let result = try ProcessRunner.run(try ProcessRunner.tool("diff"), ["-u", left.path, right.path])
            let lines = result.out.split(separator: "\n", omittingEmptySubsequences: false)
            let shown = lines.prefix(limit).joined(separator: "\n")
            return lines.count > limit ? shown + "\n… (\(lines.count - limit) more diff lines)" : shown
        } catch {
            return "(diff failed: \(error))"
        }
    }

    /// Records an issue with a short diff when the two normalised dumps differ.
    @discardableResult
    static func expectEqual(
        _ expected: String, _ actual: String, _ what: String, sourceLocation: SourceLocation = #_sourceLocation
    ) -> Bool {
        if expected == actual { return true }
        Issue.record("\(what): normalised dumps differ\n\(shortDiff(expected, actual))", sourceLocation: sourceLocation)
        return false
    }
}

extension PostgresCluster {
    /// The dump with what legitimately differs between two dumps of equal data removed.
    func normalisedDump(_ database: String) throws -> String {
        DumpComparison.normalise(try dump(database))
    }
}
