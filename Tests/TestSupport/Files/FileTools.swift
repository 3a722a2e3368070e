import Foundation

/// Facts about files the tests check, and the one ownership change the PostgreSQL harness needs.
package enum FileTools {
    package static func permissions(_ url: URL) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
        return (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    package static func size(_ url: URL) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
        return (attributes[.size] as? NSNumber)?.intValue ?? -1
    }

    /// Names in a directory (hidden ones included), sorted; an absent directory is empty.
    package static func names(in directory: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
    }

    /// Every regular file below `directory`, hidden ones included.
    package static func allFiles(under directory: URL) -> [URL] {
        guard let walker = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: [.isRegularFileKey])
        else { return [] }
        var files: [URL] = []
        for case let url as URL in walker where (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
            files.append(url)
        }
        return files
    }

    package static func chownToPostgres(_ url: URL) throws {
        guard let entry = getpwnam("postgres") else { throw HarnessError.setup("no postgres user on this machine") }
        guard chown(url.path, entry.pointee.pw_uid, entry.pointee.pw_gid) == 0 else {
            throw HarnessError.setup("chown postgres \(url.path) failed: errno \(errno)")
        }
    }
}
