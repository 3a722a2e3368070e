import CFastCGI
import Foundation

/// One FastCGI request, handed to the handler on the worker thread that accepted it.
///
/// It is only valid inside the handler call: the underlying `FCGX_Request` belongs to the worker and is
/// reused for the next connection. Use it from that one thread; do not keep it.
///
/// A response is either complete — `respond(status:headers:body:)` — or streamed —
/// `beginResponse(status:headers:)`, any number of `write(_:)`, then `finish()`. A handler that returns
/// without answering gets a 500; a streamed response that was not finished is finished for it.
public final class Request: @unchecked Sendable {
    private enum State { case fresh, streaming, finished }

    /// Every FastCGI parameter nginx sent, copied out of libfcgi so it stays readable after `finish()`.
    /// When nginx sends a name twice, the first value wins, as it does for `FCGX_GetParam`.
    public let params: [String: String]

    private let raw: UnsafeMutablePointer<FCGX_Request>
    private var state: State = .fresh
    private var bodyRead = false
    private let lingers: Bool
    /// Set by the server: whether one more request may go on a thread of its own.
    var admitHandOff: () -> Bool = { false }
    /// What runs on that thread, once the handler returned; see `continueOnOwnThread`.
    private(set) var handedOff: (@Sendable (Request) -> Void)?

    /// - Parameter lingers: close the connection libfcgi's way (see `end()`); false on unix sockets.
    init(raw: UnsafeMutablePointer<FCGX_Request>, lingers: Bool = true) {
        self.raw = raw
        self.lingers = lingers
        self.params = Self.copyParams(raw.pointee.envp)
    }

    public func param(_ name: String) -> String? { params[name] }

    public var method: String { params["REQUEST_METHOD"] ?? "" }
    /// The URI as the client sent it: not decoded, with the query string.
    public var requestURI: String { params["REQUEST_URI"] ?? "" }
    /// nginx's normalised, percent-decoded path (`%2F` is already `/` here).
    public var documentURI: String { params["DOCUMENT_URI"] ?? "" }
    public var queryString: String { params["QUERY_STRING"] ?? "" }
    public var contentType: String? { nonEmpty("CONTENT_TYPE") }
    /// nil when nginx sent no length (an unbuffered chunked upload): read the body to its end anyway.
    public var contentLength: Int? { nonEmpty("CONTENT_LENGTH").flatMap { Int($0) } }
    /// The user nginx authenticated; nil where no authentication happened.
    public var remoteUser: String? { nonEmpty("REMOTE_USER") }

    /// Hands the rest of this request to a thread of its own (the server starts it as soon as the handler
    /// returns), so the worker goes back to short requests while `body` streams to a slow client. Returns false
    /// when the server's limit of such threads is reached: then nothing was handed off and the handler answers
    /// itself (a 503, say). Call it before responding; after a true answer, touch the request only in `body`.
    public func continueOnOwnThread(_ body: @escaping @Sendable (Request) -> Void) -> Bool {
        guard state == .fresh, handedOff == nil, admitHandOff() else { return false }
        handedOff = body
        return true
    }

    /// Whether a response was started (or sent) for this request.
    public var hasResponded: Bool { state != .fresh }

    /// Reads the whole body, refusing more than `limit` bytes: throws `FastCGIError.bodyTooLarge` as soon
    /// as the announced length or the bytes received exceed it, without reading further.
    public func readBody(limit: Int) throws -> [UInt8] {
        guard state != .finished else { throw FastCGIError.requestFinished }
        guard !bodyRead else { return [] }
        bodyRead = true
        if let announced = contentLength, announced > limit { throw FastCGIError.bodyTooLarge(limit: limit) }

        var body: [UInt8] = []
        var chunk = [CChar](repeating: 0, count: 16_384)
        while true {
            let count = FCGX_GetStr(&chunk, Int32(chunk.count), raw.pointee.in)
            if count <= 0 { break }
            chunk.withUnsafeBytes { body.append(contentsOf: $0.prefix(Int(count))) }
            if body.count > limit { throw FastCGIError.bodyTooLarge(limit: limit) }
        }
        if FCGX_GetError(raw.pointee.in) != 0 { throw FastCGIError.bodyReadFailed }
        return body
    }

    /// Sends a complete response and ends the request. `Content-Length` is added unless given.
    public func respond(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) throws {
        var allHeaders = headers
        if !headers.contains(where: { $0.0.lowercased() == "content-length" }) {
            allHeaders.append(("Content-Length", String(body.count)))
        }
        try beginResponse(status: status, headers: allHeaders)
        if !body.isEmpty { try write(body) }
        try finish()
    }

    public func respond(status: Int, headers: [(String, String)] = [], body: String) throws {
        try respond(status: status, headers: headers, body: Array(body.utf8))
    }

    /// Writes the status line (`Status: 404 Not Found` — a FastCGI responder never writes an `HTTP/1.1`
    /// line, nginx would turn it into a 200) and the headers; the body follows with `write(_:)`.
    public func beginResponse(status: Int, headers: [(String, String)] = []) throws {
        switch state {
        case .fresh: break
        case .streaming: throw FastCGIError.responseAlreadyStarted
        case .finished: throw FastCGIError.requestFinished
        }
        let head = try Self.head(status: status, headers: headers)
        state = .streaming
        try put(head)
    }

    /// Writes body bytes; throws `FastCGIError.clientDisconnected` once nginx (and so the client) is gone.
    public func write<Bytes: ContiguousBytes>(_ bytes: Bytes) throws {
        switch state {
        case .fresh: throw FastCGIError.responseNotStarted
        case .streaming: break
        case .finished: throw FastCGIError.requestFinished
        }
        try bytes.withUnsafeBytes { try put($0) }
    }

    /// Pushes buffered output to nginx now (libfcgi otherwise sends in 8 KiB records).
    public func flush() throws {
        guard state == .streaming else { throw state == .fresh ? FastCGIError.responseNotStarted : .requestFinished }
        if FCGX_FFlush(raw.pointee.out) != 0 || FCGX_GetError(raw.pointee.out) != 0 {
            throw FastCGIError.clientDisconnected
        }
    }

    /// Ends a streamed response; nginx gets the end-of-request record and closes the connection.
    public func finish() throws {
        switch state {
        case .fresh: throw FastCGIError.responseNotStarted
        case .streaming: break
        case .finished: return
        }
        let failed = FCGX_GetError(raw.pointee.out) != 0
        state = .finished
        end()
        if failed { throw FastCGIError.clientDisconnected }
    }

    /// Called by the worker after the handler returns. Returns false when the handler sent nothing.
    func complete() -> Bool {
        switch state {
        case .fresh:
            try? respond(
                status: 500, headers: [("Content-Type", "text/plain; charset=utf-8")],
                body: "the request handler sent no response\n")
            if state != .finished {
                state = .finished
                end()
            }
            return false
        case .streaming:
            state = .finished
            end()
            return true
        case .finished:
            return true
        }
    }

    /// Sends the end of the request and closes the connection. libfcgi's close half-closes the socket and then
    /// waits, up to 2 s, for nginx to close its side first, so that a TCP peer never sees a reset. On a unix
    /// socket nothing written can be lost by closing at once, and the wait ties every worker to when nginx gets
    /// round to it: with the CPUs busy, status p99 went from ~12 ms to 100–500 ms with workers parked in that
    /// wait. `FCGX_Detach` makes libfcgi close without it.
    private func end() {
        if !lingers { _ = FCGX_Detach(raw) }
        FCGX_Finish_r(raw)
    }

    private func put(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        var offset = 0
        // FCGX_PutStr takes an Int32 length; large buffers go in slices.
        while offset < bytes.count {
            let length = min(bytes.count - offset, 1 << 20)
            let written = FCGX_PutStr(
                base.advanced(by: offset).assumingMemoryBound(to: CChar.self), Int32(length), raw.pointee.out)
            if written != Int32(length) || FCGX_GetError(raw.pointee.out) != 0 {
                throw FastCGIError.clientDisconnected
            }
            offset += length
        }
    }

    private func put(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try put($0) }
    }

    private func nonEmpty(_ name: String) -> String? {
        guard let value = params[name], !value.isEmpty else { return nil }
        return value
    }

    static func head(status: Int, headers: [(String, String)]) throws -> [UInt8] {
        guard (100...599).contains(status) else { throw FastCGIError.invalidStatus(status) }
        var text = "Status: \(status) \(HTTPStatus.reasonPhrase(status))\r\n"
        for (name, value) in headers {
            guard isValidHeader(name: name, value: value) else { throw FastCGIError.invalidHeader(name: name) }
            text += "\(name): \(value)\r\n"
        }
        text += "\r\n"
        return Array(text.utf8)
    }

    /// Header names are RFC 9110 tokens (and not `Status`, which we write); values carry no CR, LF or NUL,
    /// so nothing a handler passes along can inject a header or end the header block.
    static func isValidHeader(name: String, value: String) -> Bool {
        guard !name.isEmpty, name.lowercased() != "status" else { return false }
        let tokenSymbols = Set("!#$%&'*+-.^_`|~".utf8)
        for byte in name.utf8 {
            let isAlphaNumeric = (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte)
                || (0x61...0x7A).contains(byte)
            guard isAlphaNumeric || tokenSymbols.contains(byte) else { return false }
        }
        return !value.utf8.contains { $0 == 0x0D || $0 == 0x0A || $0 == 0x00 }
    }

    static func copyParams(_ envp: FCGX_ParamArray?) -> [String: String] {
        var params: [String: String] = [:]
        guard var cursor = envp else { return params }
        while let entry = cursor.pointee {
            let pair = String(cString: entry)
            if let equals = pair.firstIndex(of: "=") {
                let name = String(pair[..<equals])
                if params[name] == nil { params[name] = String(pair[pair.index(after: equals)...]) }
            }
            cursor += 1
        }
        return params
    }
}
