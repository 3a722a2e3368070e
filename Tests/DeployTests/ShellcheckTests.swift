import Foundation
import Testing

@Suite("shell scripts")
struct ShellcheckTests {
    static var scripts: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: Paths.deploy)) ?? []
        return names.filter { $0.hasSuffix(".sh") }.sorted()
    }

    @Test("deploy/ has the install and quick start scripts")
    func scriptsPresent() {
        #expect(Self.scripts.contains("install.sh"))
        #expect(Self.scripts.contains("quickstart.sh"))
    }

    @Test("shellcheck finds nothing", arguments: scripts)
    func shellcheck(script: String) throws {
        let result = try Command.run("shellcheck", ["--external-sources", Paths.deploy + "/" + script])
        #expect(result.status == 0, "\(result)")
        #expect(result.out.isEmpty && result.err.isEmpty, "\(result)")
    }

    @Test("every script is executable and runs under bash strict mode", arguments: scripts)
    func strictMode(script: String) throws {
        let path = Paths.deploy + "/" + script
        #expect(FileManager.default.isExecutableFile(atPath: path))
        let text = try FileFacts.text(path)
        #expect(text.hasPrefix("#!/usr/bin/env bash\n"))
        #expect(text.contains("\nset -euo pipefail\n"))
    }
}
