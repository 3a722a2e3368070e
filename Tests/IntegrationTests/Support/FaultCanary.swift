import Foundation
import TestSupport
import Testing

/// Files outside BACKUP_DIR that hostile input aims at, and a snapshot of everything in the test's scratch
/// directory outside BACKUP_DIR: after the attack, nothing there may be new, gone or changed.
final class OutsideCanary: @unchecked Sendable {
    let ctx: CLITestContext
    let directory: URL
    /// A copy of a real backup: if the product ever followed a path or a link to it, it would verify and restore.
    let dump: URL
    /// A valid sidecar for a planted name, kept outside.
    let sidecar: URL
    let note: URL
    private var snapshot: [String: String] = [:]

    init(_ ctx: CLITestContext, realBackup: String) throws {
        self.ctx = ctx
        directory = ctx.scratch.appending("outside")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        dump = directory.appendingPathComponent("canary.sql.gz")
        sidecar = directory.appendingPathComponent("secret.json")
        note = directory.appendingPathComponent("victim.txt")
        try FileManager.default.copyItem(at: ctx.backupURL(realBackup), to: dump)
        try FileManager.default.copyItem(at: ctx.sidecarURL(realBackup), to: sidecar)
        try Data("canary: nothing may change me\n".utf8).write(to: note)
        snapshot = try Self.state(of: ctx)
    }

    /// Takes the snapshot again (after a test planted files outside on purpose).
    func retake() throws { snapshot = try Self.state(of: ctx) }

    /// Path → sha256 of every file under the scratch directory except BACKUP_DIR (which the product owns).
    private static func state(of ctx: CLITestContext) throws -> [String: String] {
        var result: [String: String] = [:]
        let backups = ctx.backupDir.standardizedFileURL.path
        for url in FileTools.allFiles(under: ctx.scratch.url) {
            let path = url.standardizedFileURL.path
            if path.hasPrefix(backups + "/") { continue }
            result[path] = try BackupFiles.sha256(url)
        }
        return result
    }

    func expectUntouched(_ what: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let now = try Self.state(of: ctx)
        #expect(Set(now.keys) == Set(snapshot.keys),
                "\(what): files outside BACKUP_DIR appeared or vanished: +\(Set(now.keys).subtracting(snapshot.keys)) -\(Set(snapshot.keys).subtracting(now.keys))",
                sourceLocation: sourceLocation)
        for (path, sha) in snapshot where now[path] != nil && now[path] != sha {
            Issue.record("\(what): \(path) outside BACKUP_DIR changed", sourceLocation: sourceLocation)
        }
        #expect(!FileManager.default.fileExists(atPath: "/tmp/pgbackup-pwned"), "\(what): a shell ran injected text",
                sourceLocation: sourceLocation)
    }
}
