import BackupAPI
import BackupCore
import FastCGI
import Foundation
import Logging

/// One request: FastCGI params and body in, the router's answer out (streaming files in bounded chunks).
struct Exchange {
    let request: Request
    let router: Router
    let logger: Logger

    func serve() {
        var body: [UInt8]? = []
        do {
            body = try request.readBody(limit: Router.bodyLimit)
        } catch FastCGIError.bodyTooLarge {
            body = nil
        } catch {
            logger.warning("could not read the request body", metadata: ["error": "\(error)"])
            body = nil
        }
        var apiRequest = APIRequest(
            method: request.method, uri: request.requestURI, contentType: request.contentType, body: body,
            prefer: request.param("HTTP_PREFER"), remoteUser: request.remoteUser,
            acceptEncoding: request.param("HTTP_ACCEPT_ENCODING"), range: request.param("HTTP_RANGE"),
            ifRange: request.param("HTTP_IF_RANGE"))
        apiRequest.browser = BrowserHeaders(origin: request.param("HTTP_ORIGIN"),
                                            fetchSite: request.param("HTTP_SEC_FETCH_SITE"), host: request.param("HTTP_HOST"))
        let response = router.handle(apiRequest)
        if request.method != "GET" && request.method != "HEAD" {
            logger.notice("api request", metadata: [
                "method": "\(request.method)", "uri": "\(request.requestURI.prefix(200))",
                "user": "\(request.remoteUser ?? "-")", "status": "\(response.status)"])
        }
        do {
            try send(response)
        } catch {
            // The client went away; nothing to tell it. Streaming stopped at once, so it cost nothing more.
            logger.info("response not delivered", metadata: ["error": "\(error)"])
        }
    }

    /// A cached body (the list, ~0.5 MB with 1,000 backups, or its gzip form) goes out as it is — the plain
    /// form's newline written after it — rather than copied into a new array first.
    private func sendCached(_ bytes: [UInt8], newline: Bool, _ response: APIResponse) throws {
        try request.beginResponse(status: response.status, headers: response.headers + [
            ("Content-Length", String(bytes.count + (newline ? 1 : 0)))])
        try request.write(bytes)
        if newline { try request.write([0x0a] as [UInt8]) }
        try request.finish()
    }

    private func send(_ response: APIResponse) throws {
        switch response.body {
        case let .rawJSON(bytes):
            try sendCached(bytes, newline: true, response)
        case let .gzipJSON(bytes), let .text(bytes):
            try sendCached(bytes, newline: false, response)
        case .json, .empty:
            try request.respond(status: response.status, headers: response.headers, body: response.bodyBytes)
        case let .download(body):
            // A download lasts as long as its client reads: it goes on a thread of its own so the workers stay
            // free for list/status; past the cap the client is told to come back (the body, dropped, closes the
            // dump).
            let logger = self.logger
            let status = response.status
            let headers = response.headers + [("Content-Length", String(body.count))]
            let handedOff = request.continueOnOwnThread { request in
                do {
                    try Self.stream(body, status: status, headers: headers, to: request)
                } catch {
                    logger.info("download not delivered", metadata: ["error": "\(error)"])
                }
            }
            if !handedOff {
                logger.warning("download refused: too many downloads at once")
                try send(.error(503, "too_many_downloads",
                                "too many downloads are running at once; try again in a few seconds",
                                headers: [("Retry-After", "10")]))
            }
        }
    }

    /// Sends the head, then the body through its pipeline in 256 KiB chunks: one buffer per download.
    private static func stream(_ body: DownloadBody, status: Int, headers: [(String, String)], to request: Request) throws {
        try request.beginResponse(status: status, headers: headers)
        try body.send(chunkSize: 256 * 1024) { try request.write($0) }
        try request.finish()
    }
}
