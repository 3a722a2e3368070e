import Foundation
import Testing

@Suite("shell scripts")
struct ShellcheckTests {
    static var scripts: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: Paths.deploy)) ?? []
        return names.filter { $0.hasSuffix(".sh") }.sorted()
    }

    /// What the scripts source, relative to deploy/ (`lib/throwaway-postgres.sh`).
    static var libraries: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: Paths.deploy + "/lib")) ?? []
        return names.filter { $0.hasSuffix(".sh") }.sorted().map { "lib/" + $0 }
    }

    /// Benchmarks/run.sh and what it sources, relative to the repository.
    static var benchmarkScripts: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: Paths.repository + "/Benchmarks/lib")) ?? []
        return ["Benchmarks/run.sh"] + names.filter { $0.hasSuffix(".sh") }.sorted().map { "Benchmarks/lib/" + $0 }
    }

    @Test("deploy/ has the install and quick start scripts")
    func scriptsPresent() {
        #expect(Self.scripts.contains("install.sh"))
        #expect(Self.scripts.contains("quickstart.sh"))
    }

    @Test("deploy/lib/ has the throwaway PostgreSQL cluster the quick start and the benchmark share")
    func librariesPresent() {
        #expect(Self.libraries.contains("lib/throwaway-postgres.sh"))
    }

    @Test("shellcheck finds nothing", arguments: scripts + libraries)
    func shellcheck(script: String) throws {
        let result = try Command.run("shellcheck", ["--external-sources", Paths.deploy + "/" + script])
        #expect(result.status == 0, "\(result)")
        #expect(result.out.isEmpty && result.err.isEmpty, "\(result)")
    }

    @Test("shellcheck finds nothing in the benchmark's scripts", arguments: benchmarkScripts)
    func shellcheckBenchmark(script: String) throws {
        let result = try Command.run("shellcheck", ["--external-sources", Paths.repository + "/" + script])
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

    @Test("every library is sourced, not run, and holds to bash strict mode", arguments: libraries)
    func libraryStrictMode(library: String) throws {
        let path = Paths.deploy + "/" + library
        #expect(!FileManager.default.isExecutableFile(atPath: path))
        let text = try FileFacts.text(path)
        #expect(text.hasPrefix("# shellcheck shell=bash\n"))
        #expect(text.contains("\nset -euo pipefail\n"))
    }

    @Test("the quick start and the benchmark start PostgreSQL only through deploy/lib/throwaway-postgres.sh")
    func oneThrowawayCluster() throws {
        let quickstart = try FileFacts.text(Paths.deploy + "/quickstart.sh")
        #expect(quickstart.contains("\nsource \"$script_dir/lib/throwaway-postgres.sh\"\n"))
        let benchmark = try FileFacts.text(Paths.repository + "/Benchmarks/run.sh")
        #expect(benchmark.contains("\nsource \"$REPO/deploy/lib/throwaway-postgres.sh\"\n"))
        for script in ["deploy/quickstart.sh"] + Self.benchmarkScripts {
            let text = try FileFacts.text(Paths.repository + "/" + script)
            #expect(text.firstMatch(of: /(initdb|pg_ctl)"?\s+-D/) == nil, "\(script) runs initdb or pg_ctl itself")
        }
    }
}
