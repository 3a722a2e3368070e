import Foundation
import TestSupport
import Testing

@testable import FastCGI

extension ProcessTests {
    /// The Server run inside the test process: stop() from another thread, handler errors, workers.
    @Suite struct EmbeddedServer {
        final class Box<Value>: @unchecked Sendable {
            private let lock = NSLock()
            private var stored: Value
            init(_ value: Value) { stored = value }
            var value: Value {
                get { lock.lock(); defer { lock.unlock() }; return stored }
                set { lock.lock(); defer { lock.unlock() }; stored = newValue }
            }
        }

        @Test func stopEndsRunAfterServingAndRemovesTheSocket() throws {
            let scratch = try TemporaryDirectory(prefix: "fcgi", mode: 0o711)
            defer { scratch.remove() }
            let path = scratch.path + "/embedded.sock"
            let lines = Box<[String]>([])
            let seen = Box<[String]>([])
            let server = Server(
                listener: .unixSocket(path: path, mode: 0o600),
                configuration: Server.Configuration(
                    workerCount: 2, handlesSignals: false, report: { line in lines.value.append(line) })
            ) { request in
                seen.value.append("\(request.method) \(request.documentURI) user=\(request.remoteUser ?? "-")")
                try? request.respond(
                    status: 201, headers: [("Content-Type", "text/plain"), ("Location", "/api/backups/x")],
                    body: "made \(request.queryString)")
            }
            let finished = Box(false)
            let thread = Thread {
                do { try server.run() } catch { lines.value.append("run threw \(error)") }
                finished.value = true
            }
            thread.start()
            #expect(Poll.until(timeout: 10, interval: 20_000) { FileManager.default.fileExists(atPath: path) })

            let client = try LoggedProcess(
                try ProcessRunner.tool("cgi-fcgi"), ["-bind", "-connect", path],
                environment: ["REQUEST_METHOD": "POST", "DOCUMENT_URI": "/api/backups", "QUERY_STRING": "n=1",
                              "REMOTE_USER": "alice"],
                in: scratch.url, name: "client")
            let result = try client.result(timeout: 15)
            #expect(result.out == "Status: 201 Created\r\nContent-Type: text/plain\r\nLocation: /api/backups/x\r\n"
                + "Content-Length: 8\r\n\r\nmade n=1")
            #expect(seen.value == ["POST /api/backups user=alice"])

            server.stop()
            #expect(Poll.until(timeout: 10, interval: 20_000) { finished.value })
            #expect(!FileManager.default.fileExists(atPath: path))
            #expect(lines.value.first == "listening on \(path) with 2 workers")
            #expect(lines.value.contains("stopping: stop requested"))
            #expect(lines.value.last == "stopped")

            // run() is once only; a second call returns at once.
            try server.run()
        }

        @Test func stopBeforeRunMakesRunReturnWithoutListening() throws {
            let scratch = try TemporaryDirectory(prefix: "fcgi", mode: 0o711)
            defer { scratch.remove() }
            let path = scratch.path + "/never.sock"
            let server = Server(
                listener: .unixSocket(path: path), configuration: Server.Configuration(handlesSignals: false)
            ) { _ in }
            server.stop()
            try server.run()
            #expect(!FileManager.default.fileExists(atPath: path))
        }

        @Test func listenerErrorsComeOutOfRun() throws {
            let server = Server(
                listener: .unixSocket(path: "/nonexistent-directory-pgbackup/fcgi.sock"),
                configuration: Server.Configuration(handlesSignals: false)
            ) { _ in }
            #expect(throws: FastCGIError.socketDirectoryMissing(directory: "/nonexistent-directory-pgbackup")) {
                try server.run()
            }
        }
    }
}
