import BackupCore
import Foundation

/// A request as the router sees it: no sockets, no C types.
public struct APIRequest: Sendable {
    public var method: String
    /// The raw request URI (`REQUEST_URI`): undecoded, possibly with a query string.
    public var uri: String
    public var contentType: String?
    /// The body, or nil when it exceeded the limit (the router answers 413).
    public var body: [UInt8]?
    /// `Prefer` header (`HTTP_PREFER`).
    public var prefer: String?
    /// The user nginx authenticated (`REMOTE_USER`).
    public var remoteUser: String?
    /// `Accept-Encoding` header (`HTTP_ACCEPT_ENCODING`).
    public var acceptEncoding: String?
    /// `Range` header (`HTTP_RANGE`), for downloads.
    public var range: String?
    /// `If-Range` header (`HTTP_IF_RANGE`), for downloads.
    public var ifRange: String?
    /// `Origin`, `Sec-Fetch-Site` and `Host`, for the cross-site check.
    public var browser = BrowserHeaders()

    public init(method: String, uri: String, contentType: String? = nil, body: [UInt8]? = [], prefer: String? = nil,
                remoteUser: String? = nil, acceptEncoding: String? = nil, range: String? = nil, ifRange: String? = nil) {
        self.method = method
        self.uri = uri
        self.contentType = contentType
        self.body = body
        self.prefer = prefer
        self.remoteUser = remoteUser
        self.acceptEncoding = acceptEncoding
        self.range = range
        self.ifRange = ifRange
    }

    /// Whether the client takes a gzip-encoded body (RFC 9110 §12.5.3): `gzip` or `x-gzip` listed with a non-zero
    /// weight, or, when neither is listed, `*` with a non-zero weight.
    public var acceptsGzip: Bool {
        guard let header = acceptEncoding else { return false }
        var gzip: Bool?
        var wildcard: Bool?
        for item in header.split(separator: ",") {
            let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard let coding = parts.first, !coding.isEmpty else { continue }
            var weight = 1.0
            for parameter in parts.dropFirst() where parameter.hasPrefix("q=") {
                weight = Double(parameter.dropFirst(2)) ?? 0
            }
            switch coding {
            case "gzip", "x-gzip": gzip = (gzip ?? false) || weight > 0
            case "*": wildcard = weight > 0
            default: continue
            }
        }
        return gzip ?? wildcard ?? false
    }
}

extension APIRequest {
    /// `Prefer: respond-async` (RFC 7240), as in `respond-async; wait=5, foo`: only each preference's first token
    /// counts.
    var respondAsync: Bool {
        prefer?.lowercased().split(separator: ",").contains {
            $0.split(separator: ";").first?.trimmingCharacters(in: .whitespaces) == "respond-async"
        } ?? false
    }
}

/// What to send back.
public struct APIResponse: Sendable {
    public enum Body: Sendable {
        case json(JSON)
        /// JSON already serialised (the cached list); the newline is added when it is sent.
        case rawJSON([UInt8])
        /// JSON already serialised, newline included, and gzip-compressed (sent with `Content-Encoding: gzip`).
        case gzipJSON([UInt8])
        /// A backup (or one byte range of it) to stream; the responder sends it, and dropping it unsent closes it.
        case download(DownloadBody)
        /// Bytes sent as they are (the metrics' text exposition), with the Content-Type the route set.
        case text([UInt8])
        case empty
    }

    public var status: Int
    public var headers: [(String, String)]
    public var body: Body

    public init(status: Int, headers: [(String, String)] = [], body: Body) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public static func json(_ status: Int, _ value: JSON, headers: [(String, String)] = []) -> APIResponse {
        APIResponse(status: status, headers: [("Content-Type", "application/json")] + headers, body: .json(value))
    }

    public static func error(_ status: Int, _ code: String, _ detail: String, headers: [(String, String)] = []) -> APIResponse {
        json(status, .object([("success", .bool(false)), ("error", .string(code)), ("detail", .string(detail))]),
             headers: headers)
    }

    public static func error(_ error: BackupError) -> APIResponse {
        json(error.httpStatus, error.json)
    }

    /// The serialised JSON body (empty for downloads).
    public var bodyBytes: [UInt8] {
        switch body {
        case let .json(value): return Array((value.serialized(pretty: true) + "\n").utf8)
        case let .rawJSON(bytes): return bytes + [0x0a]
        case let .gzipJSON(bytes), let .text(bytes): return bytes
        case .download, .empty: return []
        }
    }
}
