import Foundation

/// POSTs with `curl` as a child process. The URL and body reach curl as a config file on its stdin (`-K -`),
/// never in its argv, where any local user could read them in `/proc/PID/cmdline` or `ps`.
///
/// Why curl rather than FoundationNetworking's URLSession: a synchronous caller would have to block a thread on
/// URLSession's delegate queue with a semaphore, its timeouts are per-request-idle rather than total, and a
/// hung DNS lookup or TLS handshake inside it cannot be cut off from outside; a child process can always be
/// killed. curl's `--max-time` bounds the whole exchange, and a watchdog kills curl one second after that.
public struct CurlTransport: NotificationTransport {
    public var timeoutSeconds: Double
    public var executable: String

    public init(timeoutSeconds: Double = 5, executable: String = "curl") {
        self.timeoutSeconds = timeoutSeconds
        self.executable = executable
    }

    public func post(url: String, body: [UInt8], contentType: String?) throws {
        let command = Command(executable: executable, arguments: ["--config", "-"],
                              environment: ["PATH": "/usr/local/bin:/usr/bin:/bin"])
        let process: ChildProcess
        do {
            process = try ChildProcess(command, stdin: .pipe, stoppedBySignals: false)
        } catch {
            throw NotificationError(url: url, reason: "could not start curl: \(error)")
        }
        let config = Array(Self.config(url: url, body: body, contentType: contentType,
                                       timeoutSeconds: timeoutSeconds).utf8)
        if let fd = process.stdin { Self.writeAll(config, to: fd) }
        process.closeStdin()
        let watchdog = DispatchWorkItem { process.signal(SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeoutSeconds + 1, execute: watchdog)
        let status = process.wait()
        watchdog.cancel()
        guard status == 0 else {
            let detail = process.stderrText().trimmingCharacters(in: .whitespacesAndNewlines)
            let reason = status == 28 || status == 128 + SIGKILL
                ? "no answer within \(Self.seconds(timeoutSeconds)) s"
                : (detail.isEmpty ? "curl \(ChildProcess.describe(status))" : String(detail.prefix(300)))
            throw NotificationError(url: url, reason: reason)
        }
    }

    /// curl's config syntax: one option a line, values in double quotes with `\\`, `\"`, `\n`, `\r`, `\t` escaped.
    static func config(url: String, body: [UInt8], contentType: String?, timeoutSeconds: Double) -> String {
        var lines = [
            "url = \(quoted(url))",
            "request = \"POST\"",
            "data-binary = \(quoted(String(decoding: body, as: UTF8.self)))",
            "max-time = \(seconds(timeoutSeconds))",
            "connect-timeout = \(seconds(timeoutSeconds))",
            "proto = \"=http,https\"",
            "user-agent = \"pgbackup\"",
            "output = \"/dev/null\"",
            "silent", "show-error", "fail",
        ]
        // An empty body still goes as a POST, without curl's default form content type.
        lines.append("header = \(quoted("Content-Type: \(contentType ?? "text/plain; charset=utf-8")"))")
        return lines.joined(separator: "\n") + "\n"
    }

    static func quoted(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }

    private static func writeAll(_ bytes: [UInt8], to fd: Int32) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written > 0 { offset += written; continue }
            if written < 0 && errno == EINTR { continue }
            return // curl went away: its exit status says why
        }
    }
}
