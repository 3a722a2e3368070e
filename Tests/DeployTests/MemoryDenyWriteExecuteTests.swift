import Foundation
import TestSupport
import Testing

/// The units set MemoryDenyWriteExecute=yes. The kernel's PR_SET_MDWE refuses the same thing
/// (memory both writable and executable, for this process and its children), so running the
/// binaries under it shows they tolerate the setting without needing systemd as PID 1.
@Suite("MemoryDenyWriteExecute")
struct MemoryDenyWriteExecuteTests {
    static let wrapperSource = """
        #include <stdio.h>
        #include <sys/prctl.h>
        #include <unistd.h>
        #ifndef PR_SET_MDWE
        #define PR_SET_MDWE 65
        #define PR_MDWE_REFUSE_EXEC_GAIN 1
        #endif
        int main(int argc, char **argv) {
            if (argc < 2) return 100;
            if (prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0) { perror("prctl"); return 101; }
            execv(argv[1], argv + 1);
            perror("execv");
            return 102;
        }
        """

    static let probeSource = """
        #include <sys/mman.h>
        int main(void) {
            void *p = mmap(0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            return p == MAP_FAILED ? 1 : 0;
        }
        """

    struct Tools {
        let directory: TemporaryDirectory
        var wrapper: String { directory.path + "/mdwe" }
        var probe: String { directory.path + "/probe" }

        init() throws {
            let directory = try TemporaryDirectory(prefix: "mdwe")
            self.directory = directory
            do {
                for (name, source) in [("mdwe", wrapperSource), ("probe", probeSource)] {
                    try source.write(toFile: "\(directory.path)/\(name).c", atomically: true, encoding: .utf8)
                    let compiled = try Command.run("cc", ["-O2", "-o", "\(directory.path)/\(name)", "\(directory.path)/\(name).c"])
                    guard compiled.status == 0 else { throw HarnessError.commandFailed("a working C compiler", compiled) }
                }
            } catch {
                directory.remove()
                throw error
            }
        }
    }

    @Test("the wrapper really refuses writable+executable memory")
    func wrapperIsEffective() throws {
        let tools = try Tools()
        defer { tools.directory.remove() }
        #expect(try Command.run(tools.probe).status == 0, "without the wrapper W+X memory is allowed")
        #expect(try Command.run(tools.wrapper, [tools.probe]).status == 1, "under the wrapper W+X memory is refused")
    }

    @Test("the CLI lists an empty backup directory and the scheduler runs, under MDWE")
    func cliAndScheduler() throws {
        let tools = try Tools()
        defer { tools.directory.remove() }
        let backups = tools.directory.path + "/backups"
        let envFile = tools.directory.path + "/pgbackup.env"
        try "BACKUP_DIR=\(backups)\nBACKUP_ENABLED=false\n".write(toFile: envFile, atomically: true, encoding: .utf8)
        let clean: [String: String?] = ["PGBACKUP_ENV_FILE": envFile, "BACKUP_DIR": nil, "BACKUP_ENABLED": nil]

        let list = try Command.run(tools.wrapper, [Paths.binaries + "/pgbackup", "list", "--json"], environment: clean)
        #expect(list.status == 0, "\(list)")
        let parsed = try JSONSerialization.jsonObject(with: Data(list.out.utf8))
        #expect((parsed as? [Any])?.isEmpty == true, "\(list.out)")

        let scheduler = try Command.run(tools.wrapper, [Paths.binaries + "/pgbackup-scheduler", "--env-file", envFile], environment: clean)
        #expect(scheduler.status == 0, "disabled scheduler exits 0: \(scheduler)")
    }

    @Test("the responder starts, listens and stops on SIGTERM, under MDWE")
    func responder() throws {
        let tools = try Tools()
        defer { tools.directory.remove() }
        let socketPath = tools.directory.path + "/fcgi.sock"
        let envFile = tools.directory.path + "/pgbackup.env"
        try "BACKUP_DIR=\(tools.directory.path)/backups\n".write(toFile: envFile, atomically: true, encoding: .utf8)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: tools.wrapper)
        process.arguments = [Paths.binaries + "/pgbackup-fcgi", "--socket", socketPath, "--env-file", envFile]
        process.standardInput = FileHandle.nullDevice
        let log = tools.directory.path + "/fcgi.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

        var listening = false
        for _ in 0..<100 where !listening {
            var info = stat()
            listening = stat(socketPath, &info) == 0 && (info.st_mode & S_IFMT) == S_IFSOCK
            if !listening { usleep(100_000) }
        }
        let output = { (try? FileFacts.text(log)) ?? "" }
        try #require(listening, "no socket: \(output())")
        usleep(300_000)
        #expect(process.isRunning, "\(output())")
        process.terminate()
        #expect(exited.wait(timeout: .now() + 15) == .success, "still running 15 s after SIGTERM")
        #expect(process.terminationReason == .exit && process.terminationStatus == 0, "\(process.terminationStatus): \(output())")
    }
}
