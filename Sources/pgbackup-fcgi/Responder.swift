import ArgumentParser
import BackupAPI
import BackupCore
import CommandLineSupport
import FastCGI
import Foundation
import Logging

/// The FastCGI responder nginx forwards `/api/backups…` to. Also runs detached jobs (`--run-job ID`).
@main
struct Responder: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pgbackup-fcgi",
        abstract: "Answer the pgbackup REST API over FastCGI (behind nginx).",
        discussion: "Listens on --socket (or PGBACKUP_FCGI_SOCKET), else on systemd's socket (LISTEN_FDS), else on fd 0 when it is a listening socket (spawn-fcgi).")

    @Option(name: .long, help: "Bind this unix socket (refuses to take over one that answers).")
    var socket: String?

    @Option(name: .long, help: "Mode of the socket made by --socket, in octal.")
    var socketMode = "0660"

    @Option(name: .long, help: "Group of the socket made by --socket (nginx's workers' group, e.g. www-data).")
    var socketGroup: String?

    @Option(name: .long, help: "Worker threads, each serving one request at a time.")
    var workers = 8

    @Option(name: .long, help: "Downloads streamed at once, each on a thread of its own (more get 503 with Retry-After; default 16).")
    var maxDownloads: Int?

    @Option(name: .long, help: "Exit after this many seconds without a request (0: never; for socket activation).")
    var idleTimeout: Int?

    @Option(name: .long, help: "Read settings from this env file (KEY=VALUE lines, never executed).")
    var envFile: String?

    @Option(name: .long, help: .hidden)
    var runJob: String?

    func validate() throws {
        guard (1...64).contains(workers) else { throw ValidationError("--workers must be between 1 and 64") }
        if let maxDownloads, !(1...1024).contains(maxDownloads) { throw ValidationError("--max-downloads must be between 1 and 1024") }
        guard mode_t(socketMode, radix: 8).map({ $0 <= 0o777 }) == true else {
            throw ValidationError("--socket-mode must be an octal mode such as 0660")
        }
        if let idleTimeout, idleTimeout < 0 { throw ValidationError("--idle-timeout must not be negative") }
    }

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        // A job's own process runs one create or restore: a stop signal fails the job loudly (see Interruption).
        if runJob != nil { Interruption.shared.install() }
        let logger: Logger
        let manager: BackupManager
        do {
            (logger, manager) = try ServiceSetup.start(label: "pgbackup-fcgi", envFile: envFile)
        } catch let error as BackupError {
            throw ExitCode(error.exitCode)
        }
        let environment = ProcessInfo.processInfo.environment
        let jobs = JobRunner(manager: manager, executable: Self.ownExecutable(),
                             extraArguments: envFile.map { ["--env-file", $0] } ?? [])
        if let runJob {
            let job = jobs.run(runJob)
            throw ExitCode(job?.exitCode(interruptedBy: Interruption.shared.signal) ?? Job.noSuchJobExitCode)
        }
        if manager.configuration.operators == .unset {
            logger.warning("PGBACKUP_OPERATORS is not set: every request that changes something or downloads is refused with 403; set it to the operators' user names (or * for every authenticated user)")
        }

        let idle = idleTimeout ?? environment["PGBACKUP_FCGI_IDLE_TIMEOUT"].flatMap { Int($0) } ?? 0
        let listener: Listener
        do {
            listener = try Listener.resolve(socketPath: socket, environment: environment,
                                            mode: mode_t(socketMode, radix: 8) ?? 0o660, group: socketGroup)
        } catch {
            logger.critical("\(error)")
            throw ExitCode(2)
        }
        let router = Router(manager: manager, jobs: jobs, logger: logger)
        let server = Server(
            listener: listener,
            configuration: .init(workerCount: workers, maxHandOffs: maxDownloads ?? environment["PGBACKUP_FCGI_MAX_DOWNLOADS"].flatMap { Int($0) } ?? 16,
                                 idleTimeout: idle > 0 ? .seconds(idle) : nil,
                                 report: { logger.info("\($0)") }),
            handler: { request in Exchange(request: request, router: router, logger: logger).serve() })
        do {
            try server.run()
        } catch {
            logger.critical("\(error)")
            throw ExitCode(1)
        }
    }

    static func ownExecutable() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return CommandLine.arguments[0] }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
