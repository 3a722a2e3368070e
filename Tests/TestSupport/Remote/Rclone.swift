import Foundation

/// rclone as the tests run it, apart from pgbackup: with its own minimal environment (the machine's
/// `AWS_CA_BUNDLE` breaks rclone 1.60's S3 backend) and an explicit config file.
package enum RcloneTool {
    package static func run(_ arguments: [String], config: String, timeout: Duration = .seconds(120)) throws -> ProcessResult {
        guard let rclone = ProcessRunner.which("rclone") else { throw HarnessError.missingTool("rclone") }
        return try ProcessRunner.run(rclone, ["--config", config] + arguments,
                                     environment: RunningProcess.baseEnvironment(), timeout: timeout)
    }

    /// The object names at the top of `path` (`remote:bucket/prefix`).
    package static func names(_ path: String, config: String) throws -> [String] {
        let result = try run(["lsf", "--files-only", path], config: config)
        guard result.status == 0 else { throw HarnessError.commandFailed("rclone lsf \(path)", result) }
        return result.out.split(separator: "\n").map(String.init).sorted()
    }

    /// An object's bytes.
    package static func cat(_ path: String, config: String) throws -> Data {
        let result = try run(["cat", path], config: config)
        guard result.status == 0 else { throw HarnessError.commandFailed("rclone cat \(path)", result) }
        return result.stdout
    }

    /// Writes a local file's bytes to an object (the tests' way of changing a remote behind pgbackup's back).
    package static func copyTo(_ file: String, _ path: String, config: String) throws {
        let result = try run(["copyto", file, path], config: config)
        guard result.status == 0 else { throw HarnessError.commandFailed("rclone copyto \(path)", result) }
    }

    package static func delete(_ path: String, config: String) throws {
        let result = try run(["deletefile", path], config: config)
        guard result.status == 0 else { throw HarnessError.commandFailed("rclone deletefile \(path)", result) }
    }
}
