import Foundation

/// Runs commands to completion and finds the programs to run.
package enum ProcessRunner {
    /// The PATH children get, and where `which` looks unless told otherwise.
    package static let standardPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// Runs `executable` to completion (or until `timeout`, then kills it).
    package static func run(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String] = RunningProcess.baseEnvironment(),
        stdin: Data? = nil,
        timeout: Duration = .seconds(120)
    ) throws -> ProcessResult {
        try RunningProcess(executable, arguments, environment: environment, stdin: stdin).wait(timeout: timeout)
    }

    /// Finds a program on `path` (the standard PATH by default), e.g. `psql`, so children are started by absolute
    /// path; a name with a slash is taken as it is.
    package static func which(_ name: String, searching path: String = standardPath) -> String? {
        if name.contains("/") { return name }
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Like `which`, but also looks in Debian's versioned PostgreSQL directories (initdb and pg_ctl are
    /// not on PATH there), newest version first; a missing tool is a setup error that names it.
    package static func tool(_ name: String) throws -> String {
        if let path = which(name) { return path }
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
            .sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }
        for version in versions {
            let candidate = "\(root)/\(version)/bin/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw HarnessError.missingTool(name)
    }
}
