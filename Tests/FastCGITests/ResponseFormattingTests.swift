import Foundation
import Testing

@testable import FastCGI

@Suite struct ResponseFormatting {
    @Test func theHeadStartsWithAFastCGIStatusLine() throws {
        let head = try Request.head(status: 404, headers: [("Content-Type", "application/json"), ("Allow", "GET, POST")])
        #expect(String(decoding: head, as: UTF8.self)
            == "Status: 404 Not Found\r\nContent-Type: application/json\r\nAllow: GET, POST\r\n\r\n")
    }

    @Test(arguments: [99, 600, 0, -1])
    func statusesOutsideHTTPAreRejected(status: Int) {
        #expect(throws: FastCGIError.invalidStatus(status)) { try Request.head(status: status, headers: []) }
    }

    @Test(arguments: [
        ("X-Evil", "a\r\nSet-Cookie: x=1"),
        ("X-Evil", "line\nbreak"),
        ("X-Nul", "a\u{0}b"),
        ("Bad Name", "v"),
        ("Bad:Name", "v"),
        ("", "v"),
        ("Status", "200 OK"),
        ("status", "200 OK"),
    ])
    func headersThatWouldCorruptTheResponseAreRejected(name: String, value: String) {
        #expect(throws: FastCGIError.invalidHeader(name: name)) { try Request.head(status: 200, headers: [(name, value)]) }
    }

    @Test func ordinaryHeadersAreAccepted() {
        #expect(Request.isValidHeader(name: "Content-Disposition", value: "attachment; filename=\"backup_x.sql.gz\""))
        #expect(Request.isValidHeader(name: "X-Custom_Header.1", value: ""))
        #expect(Request.isValidHeader(name: "Location", value: "/api/backups/jobs/42"))
    }

    @Test(arguments: [
        (200, "OK"), (201, "Created"), (202, "Accepted"), (400, "Bad Request"), (401, "Unauthorized"),
        (404, "Not Found"), (405, "Method Not Allowed"), (409, "Conflict"), (413, "Content Too Large"),
        (422, "Unprocessable Content"), (500, "Internal Server Error"), (502, "Bad Gateway"),
        (503, "Service Unavailable"), (507, "Insufficient Storage"), (299, "Success"), (499, "Client Error"),
    ])
    func reasonPhrases(status: Int, phrase: String) {
        #expect(HTTPStatus.reasonPhrase(status) == phrase)
    }

    @Test func paramsKeepTheFirstValueAndSplitAtTheFirstEquals() {
        let entries = ["REMOTE_USER=admin", "QUERY_STRING=a=1&b=2", "REMOTE_USER=mallory", "EMPTY=", "NOEQUALS"]
        var pointers: [UnsafeMutablePointer<CChar>?] = entries.map { strdup($0) } + [nil]
        defer { pointers.forEach { free($0) } }
        let params = pointers.withUnsafeMutableBufferPointer { Request.copyParams($0.baseAddress) }
        #expect(params == ["REMOTE_USER": "admin", "QUERY_STRING": "a=1&b=2", "EMPTY": ""])
    }

    @Test(arguments: [
        (EAGAIN, Server.AcceptErrorKind.retry), (ECONNABORTED, .retry), (EINTR, .retry),
        (EMFILE, .backOff), (ENFILE, .backOff), (ENOMEM, .backOff),
        (EBADF, .fatal), (EINVAL, .fatal), (ENOTSOCK, .fatal),
    ])
    func acceptErrorsAreClassified(error: Int32, kind: Server.AcceptErrorKind) {
        #expect(Server.classifyAcceptError(error) == kind)
    }

    @Test func errorDescriptionsAreOneLowerCaseSentence() {
        let errors: [FastCGIError] = [
            .socketPathTooLong(path: "/x", bytes: 120), .socketInUse(path: "/run/pgbackup/fcgi.sock"),
            .bodyTooLarge(limit: 65_536), .clientDisconnected, .noListener,
            .socketSetupFailed(operation: "bind()", path: "/x", errno: EACCES),
        ]
        for error in errors {
            let text = error.description
            #expect(text.first?.isLowercase == true, "\(text)")
            #expect(!text.hasSuffix("."), "\(text)")
            #expect(!text.contains("\n"), "\(text)")
        }
        #expect(FastCGIError.socketSetupFailed(operation: "bind()", path: "/x", errno: EACCES).description
            == "bind() failed for /x: Permission denied")
        #expect(FastCGIError.bodyTooLarge(limit: 65_536).description == "the request body is larger than 65536 bytes")
    }
}
