import Foundation
import TestSupport

/// One request straight to a responder's unix socket, without nginx, with libfcgi's `cgi-fcgi` (Debian
/// libfcgi-bin): its environment becomes the FastCGI params and its stdin the body, so the test decides exactly
/// which params the responder sees, as a misconfigured nginx could send them.
enum DirectFastCGI {
    /// - Parameters:
    ///   - headers: request headers by name (`Origin`), sent as nginx would: `HTTP_ORIGIN`.
    ///   - user: `REMOTE_USER`, as an authenticating nginx sets it.
    static func request(socket: String, _ method: String, _ uri: String, body: Data? = nil, contentType: String? = nil,
                        headers: [String: String] = [:], user: String = "admin") throws -> HTTPResponse {
        var params = [
            "GATEWAY_INTERFACE": "CGI/1.1", "SERVER_PROTOCOL": "HTTP/1.1", "REQUEST_METHOD": method,
            "REQUEST_URI": uri, "DOCUMENT_URI": String(uri.prefix { $0 != "?" }),
            "QUERY_STRING": uri.contains("?") ? String(uri.drop { $0 != "?" }.dropFirst()) : "",
            "REMOTE_USER": user, "CONTENT_LENGTH": String(body?.count ?? 0),
        ]
        if let contentType { params["CONTENT_TYPE"] = contentType }
        for (name, value) in headers {
            params["HTTP_" + name.uppercased().replacingOccurrences(of: "-", with: "_")] = value
        }
        let result = try ProcessRunner.run(try ProcessRunner.tool("cgi-fcgi"), ["-bind", "-connect", socket],
                                           environment: params, stdin: body ?? Data(), timeout: .seconds(60))
        guard result.status == 0 else { throw HarnessError.commandFailed("cgi-fcgi \(method) \(uri)", result) }
        return try parse(result.stdout)
    }

    /// A FastCGI answer: `Status: 403 Forbidden`, the other headers, a blank line, the body.
    static func parse(_ output: Data) throws -> HTTPResponse {
        guard let end = output.range(of: Data("\r\n\r\n".utf8)) else {
            throw HarnessError.setup("no header block in the responder's answer: \(String(decoding: output.prefix(300), as: UTF8.self))")
        }
        let block = String(decoding: output[..<end.lowerBound], as: UTF8.self)
        var status = 200
        var headers: [(name: String, value: String)] = []
        for line in block.components(separatedBy: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = String(line[..<colon])
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if name.lowercased() == "status" {
                status = Int(value.prefix { $0.isNumber }) ?? -1
            } else {
                headers.append((name, value))
            }
        }
        return HTTPResponse(status: status, headers: headers, body: Data(output[end.upperBound...]))
    }
}
