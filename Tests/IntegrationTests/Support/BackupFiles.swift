import Foundation
import TestSupport
import Testing

/// Tools that inspect and tamper with backup files from outside the product.
enum BackupFiles {
    static func sha256(_ url: URL) throws -> String {
        let result = try ProcessRunner.run(try ProcessRunner.tool("sha256sum"), [url.path])
        guard result.status == 0, let hex = result.out.split(separator: " ").first else {
            throw HarnessError.commandFailed("sha256sum", result)
        }
        return String(hex)
    }

    /// `gunzip -t FILE`.
    static func gunzipTest(_ url: URL) throws -> ProcessResult {
        try ProcessRunner.run(try ProcessRunner.tool("gunzip"), ["-t", url.path])
    }

    /// `gunzip -c FILE`, which must succeed.
    static func gunzip(_ url: URL) throws -> Data {
        let result = try ProcessRunner.run(try ProcessRunner.tool("gunzip"), ["-c", url.path])
        guard result.status == 0 else { throw HarnessError.commandFailed("gunzip -c \(url.path)", result) }
        return result.stdout
    }

    /// gzip(1) of `data`, as the old tool would have written it.
    static func gzip(_ data: Data) throws -> Data {
        let result = try ProcessRunner.run(try ProcessRunner.tool("gzip"), ["-c", "-6"], stdin: data)
        guard result.status == 0 else { throw HarnessError.commandFailed("gzip", result) }
        return result.stdout
    }

    /// Writes a backup the way the old Python tool did: gzip of a plain dump plus a sidecar with only
    /// the old tool's eight fields (no sha256, no kind, no versions).
    static func writeOldToolBackup(
        dump: Data, database: String, timestamp: String, createdAt: String, description: String, in directory: URL
    ) throws -> String {
        let name = "backup_\(database)_\(timestamp).sql.gz"
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent(name)
        let compressed = try gzip(dump)
        try compressed.write(to: file)
        let size = compressed.count
        let sidecar: [String: Any] = [
            "filename": name,
            "timestamp": timestamp,
            "created_at": createdAt,
            "database": database,
            "size_bytes": size,
            "size_mb": (Double(size) / 1_048_576 * 100).rounded() / 100,
            "description": description,
            "compressed": true,
        ]
        let sidecarURL = directory.appendingPathComponent(name + ".json")
        try JSON.write(sidecar, to: sidecarURL)
        for url in [file, sidecarURL] {
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: url.path)
        }
        return name
    }
}

/// Ways a backup file gets damaged on disk.
enum Corruption: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case truncated
    case flippedByte
    case appendedGarbage

    var testDescription: String { rawValue }

    func apply(to url: URL) throws {
        var bytes = try Data(contentsOf: url)
        switch self {
        case .truncated:
            bytes = bytes.prefix(bytes.count / 2)
        case .flippedByte:
            let middle = bytes.startIndex + bytes.count / 2
            bytes[middle] ^= 0xFF
        case .appendedGarbage:
            bytes.append(contentsOf: Array("this is not gzip data\n".utf8) + [0x00, 0x1F, 0x8B, 0x42, 0x13])
        }
        try bytes.write(to: url)
    }
}

enum TimeText {
    /// `created_at` as pgbackup writes it: `YYYY-MM-DDTHH:MM:SS.ffffffZ`, UTC.
    static func iso8601(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        let micros = Int((date.timeIntervalSince1970 - Double(seconds)) * 1_000_000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
            Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), micros)
    }
}
