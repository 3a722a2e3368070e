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

    public init(method: String, uri: String, contentType: String? = nil, body: [UInt8]? = [], prefer: String? = nil,
                remoteUser: String? = nil) {
        self.method = method
        self.uri = uri
        self.contentType = contentType
        self.body = body
        self.prefer = prefer
        self.remoteUser = remoteUser
    }
}

/// What to send back.
public struct APIResponse: Sendable {
    public enum Body: Sendable {
        case json(JSON)
        /// JSON already serialised (the cached list).
        case rawJSON([UInt8])
        /// A backup file to stream; the responder reads and closes `fd`.
        case file(fd: Int32, size: Int64)
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

    /// The serialised JSON body (empty for files).
    public var bodyBytes: [UInt8] {
        switch body {
        case let .json(value): return Array((value.serialized(pretty: true) + "\n").utf8)
        case let .rawJSON(bytes): return bytes + [0x0a]
        case .file, .empty: return []
        }
    }

    /// Standard reason phrases for the statuses the API uses.
    public static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 409: "Conflict"
        case 413: "Payload Too Large"
        case 415: "Unsupported Media Type"
        case 422: "Unprocessable Entity"
        case 500: "Internal Server Error"
        case 503: "Service Unavailable"
        case 507: "Insufficient Storage"
        default: "Status"
        }
    }
}
