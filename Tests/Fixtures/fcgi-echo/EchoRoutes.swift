import FastCGI
import Foundation

/// The echo responder's endpoints, all under /api/backups/ so nginx's authenticated locations reach them.
final class EchoRoutes: Sendable {
    private let listenerName: String
    private let counter = Counter()

    init(listener: Listener) {
        switch listener {
        case .unixSocket: listenerName = "unix-socket"
        case .inheritedSystemd: listenerName = "systemd"
        case .inheritedStdin: listenerName = "stdin"
        }
    }

    func handle(_ request: Request) {
        let served = counter.increment()
        let query = Self.parseQuery(request.queryString)
        do {
            switch request.documentURI {
            case "/api/backups/stats":
                try sendJSON(request, status: 200, ["requests": served])
            case "/api/backups/slow":
                let milliseconds = Int(query["ms"] ?? "") ?? 1000
                usleep(UInt32(milliseconds) * 1000)
                try sendJSON(request, status: 200, ["slept_ms": milliseconds, "pid": Int(getpid())])
            case "/api/backups/stream":
                try stream(request, query: query)
            case "/api/backups/body":
                try body(request, limit: Int(query["limit"] ?? "") ?? 65_536)
            case "/api/backups/silent":
                return  // deliberately no response: the server must answer 500 for us
            default:
                try echo(request)
            }
        } catch {
            EchoLog.write("\(request.documentURI): \(error)")
        }
    }

    private func echo(_ request: Request) throws {
        let body = try request.readBody(limit: 1 << 20)
        let fields: [String: Any] = [
            "pid": Int(getpid()),
            "listener": listenerName,
            "method": request.method,
            "request_uri": request.requestURI,
            "document_uri": request.documentURI,
            "query_string": request.queryString,
            "content_type": request.contentType ?? NSNull(),
            "content_length": request.contentLength ?? NSNull(),
            "remote_user": request.remoteUser ?? NSNull(),
            "http_authorization": request.param("HTTP_AUTHORIZATION") ?? NSNull(),
            "http_remote_user": request.param("HTTP_REMOTE_USER") ?? NSNull(),
            "body_length": body.count,
            "body_fnv1a": Self.fnv1a(body),
            // After start-up the inherited listener must be gone from fd 0 and LISTEN_* from the environment.
            "fd0_listening": Listener.isListeningSocket(0),
            "listen_fds_env": ProcessInfo.processInfo.environment["LISTEN_FDS"] ?? NSNull(),
        ]
        try sendJSON(request, status: 200, fields)
    }

    private func body(_ request: Request, limit: Int) throws {
        do {
            let body = try request.readBody(limit: limit)
            try sendJSON(request, status: 200, ["body_length": body.count, "body_fnv1a": Self.fnv1a(body)])
        } catch FastCGIError.bodyTooLarge(let limit) {
            try sendJSON(request, status: 413, ["error": "bodyTooLarge", "limit": limit])
        }
    }

    /// Streams `bytes` bytes of a known pattern (byte i is i % 251) in `chunk`-sized writes, pausing
    /// `delay_ms` after each, flushing each so it leaves the process at once.
    private func stream(_ request: Request, query: [String: String]) throws {
        let total = Int(query["bytes"] ?? "") ?? 1 << 20
        // chunks=A,B,…: write sizes used in turn; flush=0 leaves the flushing to libfcgi.
        let chunkSizes = (query["chunks"] ?? query["chunk"] ?? "65536").split(separator: ",").map { max(1, Int($0) ?? 65_536) }
        let flushes = query["flush"] != "0"
        let delay = Int(query["delay_ms"] ?? "") ?? 0
        try request.beginResponse(status: 200, headers: [
            ("Content-Type", "application/octet-stream"), ("Content-Length", String(total)),
        ])
        var sent = 0
        var writes = 0
        var chunk = [UInt8](repeating: 0, count: chunkSizes.max() ?? 1)
        do {
            while sent < total {
                let count = min(chunkSizes[writes % chunkSizes.count], total - sent)
                for index in 0..<count { chunk[index] = UInt8((sent + index) % 251) }
                try request.write(chunk[0..<count].withUnsafeBytes { Array($0) })
                if flushes { try request.flush() }
                sent += count
                writes += 1
                if delay > 0 { usleep(UInt32(delay) * 1000) }
            }
            try request.finish()
            EchoLog.write("stream: sent \(sent) bytes")
        } catch FastCGIError.clientDisconnected {
            EchoLog.write("stream: client disconnected after \(sent) bytes")
        }
    }

    private func sendJSON(_ request: Request, status: Int, _ object: [String: Any]) throws {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        try request.respond(status: status, headers: [("Content-Type", "application/json")], body: Array(data))
    }

    static func parseQuery(_ query: String) -> [String: String] {
        var result: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            result[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        return result
    }

    static func fnv1a(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return String(hash, radix: 16)
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    func increment() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value
    }
}
