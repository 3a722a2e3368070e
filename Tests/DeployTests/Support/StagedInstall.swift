import Foundation
import TestSupport

/// `deploy/install.sh --root DIR` with the built binaries: what a package build would do.
struct StagedInstall {
    let root: TemporaryDirectory
    let result: ProcessResult

    init(prefix: String? = nil, environment: [String: String?] = ["PGBACKUP_HTTP_PASSWORD": "correct horse battery staple"]) throws {
        let root = try TemporaryDirectory(prefix: "root")
        var arguments = ["--root", root.path, "--no-build", "--bin-dir", Paths.binaries]
        if let prefix { arguments += ["--prefix", prefix] }
        do {
            result = try Command.run(Paths.deploy + "/install.sh", arguments, environment: environment)
        } catch {
            root.remove()
            throw error
        }
        self.root = root
    }

    func again(environment: [String: String?] = [:]) throws -> ProcessResult {
        try Command.run(Paths.deploy + "/install.sh", ["--root", root.path, "--no-build", "--bin-dir", Paths.binaries], environment: environment)
    }

    func path(_ relative: String) -> String { root.path + relative }

    func remove() { root.remove() }
}

/// `Key=Value` lines of a unit file, in order (a key may repeat).
struct UnitFile {
    let settings: [(key: String, value: String)]

    init(path: String) throws {
        settings = try FileFacts.text(path).split(separator: "\n").compactMap { line in
            let text = line.trimmingCharacters(in: .whitespaces)
            guard !text.isEmpty, !text.hasPrefix("#"), !text.hasPrefix("["), let equals = text.firstIndex(of: "=") else { return nil }
            return (String(text[..<equals]), String(text[text.index(after: equals)...]))
        }
    }

    func values(_ key: String) -> [String] { settings.filter { $0.key == key }.map(\.value) }
    func value(_ key: String) -> String? { values(key).last }
}
