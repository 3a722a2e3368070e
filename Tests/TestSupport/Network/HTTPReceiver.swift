import Foundation

/// A webhook or healthchecks-style receiver on loopback (Python's http.server): it records every request —
/// method, path, Authorization header, body — one JSON object a line, and answers as told: `.ok` with 200,
/// `.status(N)`, or `.hang`, which accepts, reads the request and never answers.
package final class HTTPReceiver: @unchecked Sendable {
    package enum Behaviour: Sendable { case ok, status(Int), hang }

    package struct Received: Sendable, Equatable {
        package var method: String
        package var path: String
        package var authorization: String?
        package var body: String

        package init(method: String, path: String, authorization: String?, body: String) {
            self.method = method
            self.path = path
            self.authorization = authorization
            self.body = body
        }
    }

    package let port: Int
    private let process: RunningProcess
    private let log: String

    package var baseURL: String { "http://127.0.0.1:\(port)" }

    static let script = #"""
        import http.server, json, socketserver, sys, time
        log, mode, port_file = sys.argv[1], sys.argv[2], sys.argv[3]
        class Handler(http.server.BaseHTTPRequestHandler):
            def handle_any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace")
                with open(log, "a") as f:
                    f.write(json.dumps({"method": self.command, "path": self.path, "body": body,
                                        "authorization": self.headers.get("Authorization")}) + "\n")
                if mode == "hang":
                    time.sleep(3600)
                code = 200 if mode == "ok" else int(mode)
                self.send_response(code)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"OK")
            do_POST = do_GET = do_HEAD = handle_any
            def log_message(self, *args):
                pass
        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
        server = Server(("127.0.0.1", 0), Handler)
        with open(port_file + ".tmp", "w") as f:
            f.write(str(server.server_address[1]))
        import os; os.rename(port_file + ".tmp", port_file)
        server.serve_forever()
        """#

    package init(_ behaviour: Behaviour = .ok, in directory: TemporaryDirectory) throws {
        let name = "receiver-\(UUID().uuidString.prefix(8))"
        let scriptPath = try directory.write("\(name).py", Self.script)
        log = directory.file("\(name).jsonl")
        let portFile = directory.file("\(name).port")
        let mode: String
        switch behaviour {
        case .ok: mode = "ok"
        case let .status(code): mode = String(code)
        case .hang: mode = "hang"
        }
        process = try RunningProcess("/usr/bin/python3", [scriptPath, log, mode, portFile],
                                     environment: RunningProcess.baseEnvironment())
        var found: Int?
        for _ in 0..<200 {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8), let value = Int(text) {
                found = value
                break
            }
            usleep(25_000)
        }
        guard let found else {
            process.signal(SIGKILL)
            throw HarnessError.setup("the HTTP receiver did not start")
        }
        port = found
    }

    deinit { stop() }

    package func stop() {
        if process.isRunning { process.signal(SIGKILL) }
        _ = process.wait(timeout: .seconds(10))
    }

    /// What arrived so far, oldest first.
    package func received() -> [Received] {
        guard let text = try? String(contentsOfFile: log, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            return Received(method: object["method"] as? String ?? "", path: object["path"] as? String ?? "",
                            authorization: object["authorization"] as? String, body: object["body"] as? String ?? "")
        }
    }

    /// Waits until at least `count` requests arrived (a request is logged before it is answered).
    package func waitFor(_ count: Int, timeout: TimeInterval = 20) -> [Received] {
        let deadline = Date().addingTimeInterval(timeout)
        while received().count < count, Date() < deadline { usleep(20_000) }
        return received()
    }
}
