import Foundation
import TestSupport

/// A small tmpfs mounted over a test's scratch directory (so BACKUP_DIR, the env file and HOME all live on it),
/// for disk-full scenarios. Needs root, as the fault suite does anyway; `unmount()` puts the directory back.
final class FaultTmpfs: @unchecked Sendable {
    let mountPoint: URL
    private var mounted = false

    /// Mounts over `ctx.scratch` and recreates the context's env file and HOME on the new filesystem.
    init(over ctx: CLITestContext, bytes: Int, inodes: Int? = nil) throws {
        mountPoint = ctx.scratch.url
        var options = "size=\(bytes),mode=0700"
        if let inodes { options += ",nr_inodes=\(inodes)" }
        try Self.mount(["-t", "tmpfs", "-o", options, "tmpfs", mountPoint.path])
        mounted = true
        try Data().write(to: ctx.envFile)
        try FileManager.default.createDirectory(at: ctx.home, withIntermediateDirectories: true)
    }

    /// Changes the size and/or inode limit of the mounted filesystem (both may shrink down to what is in use).
    func remount(bytes: Int? = nil, inodes: Int? = nil) throws {
        var options = ["remount"]
        if let bytes { options.append("size=\(bytes)") }
        if let inodes { options.append("nr_inodes=\(inodes)") }
        try Self.mount(["-o", options.joined(separator: ","), mountPoint.path])
    }

    private var stats: statvfs {
        var info = statvfs()
        _ = statvfs(mountPoint.path, &info)
        return info
    }

    var freeBytes: Int { Int(stats.f_bavail) * Int(stats.f_frsize) }
    var usedBytes: Int { Int(stats.f_blocks - stats.f_bfree) * Int(stats.f_frsize) }
    var usedInodes: Int { Int(stats.f_files - stats.f_ffree) }
    var pageSize: Int { Int(stats.f_frsize) }

    func unmount() {
        guard mounted else { return }
        mounted = false
        _ = try? ProcessRunner.run(try ProcessRunner.tool("umount"), [mountPoint.path], timeout: .seconds(30))
    }

    deinit { unmount() }

    private static func mount(_ arguments: [String]) throws {
        let result = try ProcessRunner.run(try ProcessRunner.tool("mount"), arguments, timeout: .seconds(30))
        guard result.status == 0 else { throw HarnessError.commandFailed("mount \(arguments.joined(separator: " "))", result) }
    }
}
