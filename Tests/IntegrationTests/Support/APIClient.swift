import Foundation
import TestSupport
import Testing

// HTTP through an NginxStack, with curl, and the assertion every API error answer must pass.

/// A request curl is sending.
final class PendingRequest: @unchecked Sendable {
    let label: String
    let method: String
    let process: RunningProcess
    let work: TemporaryDirectory
    let bodyFile: URL
    let timeout: Int

    init(label: String, method: String, process: RunningProcess, work: TemporaryDirectory, bodyFile: URL, timeout: Int) {
        self.label = label
        self.method = method
        self.process = process
        self.work = work
        self.bodyFile = bodyFile
        self.timeout = timeout
    }

    deinit { work.remove() }

    var isRunning: Bool { process.isRunning }

    func finish() throws -> HTTPResponse {
        let result = process.wait(timeout: .seconds(timeout + 30))
        guard result.status == 0 else { throw HarnessError.commandFailed("curl \(label)", result) }
        var response = try NginxStack.parseHeaders(result.out)
        response.body = method == "HEAD" ? Data() : ((try? Data(contentsOf: bodyFile)) ?? Data())
        return response
    }
}

/// One HTTP answer as curl saw it.
struct HTTPResponse: CustomStringConvertible {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: Data

    /// A header's value (names compared without case); the last one wins.
    func header(_ name: String) -> String? {
        headers.last { $0.name.lowercased() == name.lowercased() }?.value
    }

    var text: String { String(decoding: body, as: UTF8.self) }
    func object() throws -> [String: Any] { try JSON.object(body) }
    func array() throws -> [[String: Any]] { try JSON.array(body) }

    var description: String { "\(status) \(text.prefix(600))" }
}

extension NginxStack {
    enum Credentials {
        case valid
        /// The stack's reader (may only look).
        case reader
        case none
        case custom(user: String, password: String)
    }

    /// Sends a request with curl (`--path-as-is`, so the path reaches nginx exactly as written). The password
    /// goes to curl on stdin, never on its command line. `body` with `contentType: nil` sends no Content-Type.
    func request(_ method: String, _ path: String, body: Data? = nil, contentType: String? = "application/json",
                 headers: [String] = [], credentials: Credentials = .valid, saveBodyTo file: URL? = nil,
                 timeout: Int = 600) throws -> HTTPResponse {
        let pending = try startRequest(method, path, body: body, contentType: contentType, headers: headers,
                                       credentials: credentials, saveBodyTo: file, timeout: timeout)
        return try pending.finish()
    }

    /// Starts a request and returns at once; `finish()` waits for the answer.
    func startRequest(_ method: String, _ path: String, body: Data? = nil, contentType: String? = "application/json",
                      headers: [String] = [], credentials: Credentials = .valid, saveBodyTo file: URL? = nil,
                      timeout: Int = 600) throws -> PendingRequest {
        let work = try TemporaryDirectory(prefix: "curl")
        let bodyFile = file ?? work.appending("body")
        var arguments = ["-sS", "-k", "--path-as-is", "--max-time", String(timeout), "-D", "-", "-o", bodyFile.path]
        arguments += method == "HEAD" ? ["--head"] : ["-X", method]
        var config = ""
        switch credentials {
        case .valid: config = "user = \"\(user):\(password)\"\n"
        case .reader: config = "user = \"\(reader):\(readerPassword)\"\n"
        case .none: break
        case let .custom(user, password): config = "user = \"\(user):\(password)\"\n"
        }
        if !config.isEmpty { arguments += ["-K", "-"] }
        if let body {
            let requestFile = work.appending("request")
            try body.write(to: requestFile)
            arguments += ["--data-binary", "@" + requestFile.path, "-H", "Content-Type:" + (contentType.map { " " + $0 } ?? "")]
        }
        for header in headers { arguments += ["-H", header] }
        arguments.append(baseURL + path)
        let process = try RunningProcess(try ProcessRunner.tool("curl"), arguments,
                                         environment: RunningProcess.baseEnvironment(),
                                         stdin: config.isEmpty ? nil : Data(config.utf8))
        return PendingRequest(label: "\(method) \(path)", method: method, process: process, work: work,
                              bodyFile: bodyFile, timeout: timeout)
    }

    /// The last header block curl printed (earlier ones are interim answers such as 100 Continue).
    static func parseHeaders(_ text: String) throws -> HTTPResponse {
        let lines = text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
        var status = -1
        var headers: [(name: String, value: String)] = []
        for line in lines {
            if line.hasPrefix("HTTP/") {
                let parts = line.split(separator: " ")
                status = parts.count > 1 ? Int(parts[1]) ?? -1 : -1
                headers = []
            } else if let colon = line.firstIndex(of: ":") {
                headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
            }
        }
        guard status > 0 else { throw HarnessError.setup("curl printed no status line: \(text.prefix(500))") }
        return HTTPResponse(status: status, headers: headers, body: Data())
    }

    /// `request` with a JSON body given as text.
    func post(_ path: String, json: String? = nil, headers: [String] = [], credentials: Credentials = .valid) throws -> HTTPResponse {
        try request("POST", path, body: json.map { Data($0.utf8) }, headers: headers, credentials: credentials)
    }

    func get(_ path: String) throws -> HTTPResponse {
        try request("GET", path)
    }

    /// Polls a job until it has finished; returns its last state.
    func waitForJob(_ location: String, timeout: TimeInterval = 240) throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let response = try get(location)
            guard response.status == 200 else { throw HarnessError.setup("GET \(location): \(response)") }
            let job = try response.object()
            let state = job["state"] as? String ?? ""
            if state == "succeeded" || state == "failed" || Date() > deadline { return job }
            usleep(200_000)
        }
    }
}

/// The API's error shape: `{"success": false, "error": "<code>", "detail": "<sentence>"}` (409 adds `running`).
func expectAPIError(_ response: HTTPResponse, _ status: Int, _ code: String? = nil, allow: String? = nil,
                    _ comment: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    guard response.status == status else {
        Issue.record("\(comment): expected \(status)\(code.map { " " + $0 } ?? ""), got \(response)", sourceLocation: sourceLocation)
        return
    }
    #expect(response.header("Content-Type")?.hasPrefix("application/json") == true,
            "\(comment): Content-Type \(response.header("Content-Type") ?? "none"), body \(response.text.prefix(200))",
            sourceLocation: sourceLocation)
    guard let object = try? response.object() else {
        Issue.record("\(comment): error body is not a JSON object: \(response.text.prefix(300))", sourceLocation: sourceLocation)
        return
    }
    let keys = Set(object.keys)
    let expectedKeys: Set<String> = status == 409 ? ["success", "error", "detail", "running"] : ["success", "error", "detail"]
    #expect(keys == expectedKeys, "\(comment): keys \(keys.sorted())", sourceLocation: sourceLocation)
    #expect(object["success"] as? Bool == false, "\(comment)", sourceLocation: sourceLocation)
    let detail = object["detail"] as? String ?? ""
    #expect(!detail.isEmpty && !detail.contains("\n"), "\(comment): detail '\(detail)'", sourceLocation: sourceLocation)
    if let code {
        #expect(object["error"] as? String == code, "\(comment): error \(object["error"] ?? "none")", sourceLocation: sourceLocation)
    } else {
        #expect((object["error"] as? String)?.isEmpty == false, "\(comment)", sourceLocation: sourceLocation)
    }
    if let allow {
        #expect(response.header("Allow") == allow, "\(comment): Allow \(response.header("Allow") ?? "none")",
                sourceLocation: sourceLocation)
    }
}
