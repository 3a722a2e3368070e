import Foundation
import TestSupport

/// Runs a system tool with a file on stdin and returns its exit status and stdout (stderr is left out).
enum ExternalTool {
    static func run(_ executable: String, _ arguments: [String], stdinFile: String? = nil) throws -> (status: Int32, stdout: [UInt8]) {
        var input: Data?
        if let stdinFile {
            guard let data = FileManager.default.contents(atPath: stdinFile) else { throw HarnessError.setup("cannot open \(stdinFile)") }
            input = data
        }
        let result = try ProcessRunner.run(executable, arguments, stdin: input)
        return (result.status, [UInt8](result.stdout))
    }

    /// `gzip -dc FILE`.
    static func gunzip(_ compressed: [UInt8], in directory: TemporaryDirectory) throws -> (status: Int32, stdout: [UInt8]) {
        let path = try directory.write("input-\(UUID().uuidString).gz", compressed)
        return try run("/usr/bin/gzip", ["-dc", path])
    }

    /// Python's gzip module reading stdin.
    static func pythonGunzip(_ compressed: [UInt8], in directory: TemporaryDirectory) throws -> (status: Int32, stdout: [UInt8]) {
        let path = try directory.write("input-\(UUID().uuidString).gz", compressed)
        return try run(
            "/usr/bin/python3",
            ["-c", "import gzip,sys; sys.stdout.buffer.write(gzip.decompress(sys.stdin.buffer.read()))"],
            stdinFile: path)
    }

    /// `gzip -LEVEL -c FILE`.
    static func gzip(_ plain: [UInt8], level: Int, in directory: TemporaryDirectory) throws -> [UInt8] {
        let path = try directory.write("plain-\(UUID().uuidString)", plain)
        let result = try run("/usr/bin/gzip", ["-\(level)", "-c", path])
        guard result.status == 0 else { throw HarnessError.setup("gzip exited with \(result.status)") }
        return result.stdout
    }
}
