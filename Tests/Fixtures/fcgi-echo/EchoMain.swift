import FastCGI
import Foundation

/// A FastCGI responder for FastCGITests: it reports what nginx sent and exercises streaming, slow
/// requests, body limits and a handler that forgets to answer. Not part of the product.
///
///     fcgi-echo [--socket PATH] [--socket-mode OCTAL] [--socket-group GROUP] [--workers N] [--idle-timeout SECONDS]
@main
struct EchoMain {
    static func main() {
        do {
            let options = try EchoOptions(arguments: Array(CommandLine.arguments.dropFirst()))
            let listener = try Listener.resolve(
                socketPath: options.socketPath, environment: ProcessInfo.processInfo.environment,
                mode: options.socketMode, group: options.socketGroup)
            let routes = EchoRoutes(listener: listener)
            let configuration = Server.Configuration(
                workerCount: options.workers, idleTimeout: options.idleTimeout,
                report: { EchoLog.write($0) })
            let server = Server(listener: listener, configuration: configuration) { routes.handle($0) }
            try server.run()
        } catch {
            EchoLog.write("error: \(error)")
            exit(1)
        }
    }
}

enum EchoLog {
    static func write(_ line: String) {
        FileHandle.standardError.write(Data("fcgi-echo[\(getpid())]: \(line)\n".utf8))
    }
}

struct EchoOptions {
    var socketPath: String?
    var socketMode: mode_t = 0o660
    var socketGroup: String?
    var workers = 4
    var idleTimeout: Duration?

    struct UsageError: Error, CustomStringConvertible {
        let description: String
    }

    init(arguments: [String]) throws {
        var remaining = arguments[...]
        func value(for option: String) throws -> String {
            guard let next = remaining.popFirst() else { throw UsageError(description: "\(option) needs a value") }
            return next
        }
        while let option = remaining.popFirst() {
            switch option {
            case "--socket":
                socketPath = try value(for: option)
            case "--socket-mode":
                let text = try value(for: option)
                guard let mode = mode_t(text, radix: 8) else { throw UsageError(description: "bad mode \(text)") }
                socketMode = mode
            case "--socket-group":
                socketGroup = try value(for: option)
            case "--workers":
                let text = try value(for: option)
                guard let count = Int(text), count > 0 else { throw UsageError(description: "bad worker count \(text)") }
                workers = count
            case "--idle-timeout":
                let text = try value(for: option)
                guard let seconds = Double(text), seconds > 0 else { throw UsageError(description: "bad timeout \(text)") }
                idleTimeout = .milliseconds(Int(seconds * 1000))
            default:
                throw UsageError(description: "unknown option \(option)")
            }
        }
    }
}
