import Foundation
import TestSupport

/// curl with arguments of the test's choosing (`--limit-rate`, `-C -`, `--http1.1`…) against a stack; the
/// password still goes on stdin. `-D -` puts the header block on stdout.
enum RawCurl {
    static func start(_ stack: NginxStack, _ arguments: [String], path: String,
                      credentials: NginxStack.Credentials = .valid, scheme: String = "https") throws -> RunningProcess {
        var config = ""
        switch credentials {
        case .valid: config = "user = \"\(stack.user):\(stack.password)\"\n"
        case .reader: config = "user = \"\(stack.reader):\(stack.readerPassword)\"\n"
        case .none: break
        case let .custom(user, password): config = "user = \"\(user):\(password)\"\n"
        }
        let url = "\(scheme)://127.0.0.1:\(stack.port)\(path)"
        return try RunningProcess(try ProcessRunner.tool("curl"),
                                  ["-sS", "-k", "--path-as-is"] + (config.isEmpty ? [] : ["-K", "-"]) + arguments + [url],
                                  environment: RunningProcess.baseEnvironment(), stdin: config.isEmpty ? nil : Data(config.utf8))
    }

    static func run(_ stack: NginxStack, _ arguments: [String], path: String,
                    credentials: NginxStack.Credentials = .valid, scheme: String = "https",
                    timeout: Duration = .seconds(60)) throws -> ProcessResult {
        try start(stack, arguments, path: path, credentials: credentials, scheme: scheme).wait(timeout: timeout)
    }

    /// The status, headers and body of a `-D - -o FILE` run.
    static func response(_ result: ProcessResult, body: URL?) throws -> HTTPResponse {
        var response = try NginxStack.parseHeaders(result.out)
        if let body { response.body = (try? Data(contentsOf: body)) ?? Data() }
        return response
    }
}

/// A backup with a sidecar sha256 (as pgbackup writes them), of `size` random bytes, for download tests.
enum DownloadFixture {
    static func write(size: Int, in directory: URL, timestamp: String = "20260101_120000") throws -> (name: String, data: Data, sha256: String) {
        // A random block repeated: quick to make even for tens of MB, and no two nearby ranges look alike.
        var block = [UInt8](repeating: 0, count: min(size, 65_521))
        for index in block.indices { block[index] = UInt8.random(in: 0...255) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(size)
        while bytes.count < size { bytes.append(contentsOf: block.prefix(size - bytes.count)) }
        let name = try BackupFiles.writeOldToolBackup(
            dump: Data("SELECT 1;\n--\n-- PostgreSQL database dump complete\n--\n".utf8), database: "appdb",
            timestamp: timestamp, createdAt: "2026-01-01T12:00:00.000000", description: "download fixture", in: directory)
        let file = directory.appendingPathComponent(name)
        let data = Data(bytes)
        try data.write(to: file)
        let sha256 = try BackupFiles.sha256(file)
        let sidecarURL = directory.appendingPathComponent(name + ".json")
        var sidecar = try JSON.object(Data(contentsOf: sidecarURL))
        sidecar["sha256"] = sha256
        sidecar["size_bytes"] = size
        try JSON.write(sidecar, to: sidecarURL)
        return (name, data, sha256)
    }
}
