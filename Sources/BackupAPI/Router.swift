import BackupCore
import Foundation
import Logging

/// Maps (method, path, body) to a BackupCore call and its answer. Pure apart from what BackupCore does, so it is
/// tested without a socket.
public struct Router: Sendable {
    public static let bodyLimit = 64 * 1024
    let manager: BackupManager
    let jobs: JobRunner
    let logger: Logger

    public init(manager: BackupManager, jobs: JobRunner, logger: Logger) {
        self.manager = manager
        self.jobs = jobs
        self.logger = logger
    }

    /// The routes, as (path pattern, allowed methods).
    enum Route: Equatable {
        case collection
        case status
        case cleanup
        case restore
        case jobs
        case job(String)
        case download(String)
        case verify(String)
        case backup(String)

        var allowed: [String] {
            switch self {
            case .collection: ["GET", "HEAD", "POST"]
            case .status, .jobs, .job, .download: ["GET", "HEAD"]
            case .cleanup, .restore, .verify: ["POST"]
            case .backup: ["GET", "HEAD", "DELETE"]
            }
        }
    }

    /// Splits the raw path on `/` first and percent-decodes each segment once, so an encoded slash can never
    /// become a path separator. nil means "no such path" (404); a throw means a malformed path (400).
    static func route(_ uri: String) throws -> Route? {
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let rawSegments = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard rawSegments.count >= 3, rawSegments[0].isEmpty, rawSegments[1] == "api", rawSegments[2] == "backups" else {
            return nil
        }
        let segments = try rawSegments.dropFirst(3).map { segment -> String in
            guard let decoded = percentDecode(segment) else {
                throw BackupError.invalidInput("the path is not valid percent-encoded UTF-8")
            }
            return decoded
        }
        switch segments.count {
        case 0: return .collection
        case 1:
            switch segments[0] {
            case "status": return .status
            case "cleanup": return .cleanup
            case "restore": return .restore
            case "jobs": return .jobs
            case "": return nil
            default: return .backup(segments[0])
            }
        case 2:
            if segments[0] == "download" { return .download(segments[1]) }
            if segments[0] == "jobs" { return .job(segments[1]) }
            if segments[1] == "verify" { return .verify(segments[0]) }
            return nil
        default:
            return nil
        }
    }

    static func percentDecode(_ text: String) -> String? {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else { bytes.append(byte); continue }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    public func handle(_ request: APIRequest) -> APIResponse {
        answer(request).withSecurityHeaders()
    }

    private func answer(_ request: APIRequest) -> APIResponse {
        do {
            // Before routing: a forged request learns nothing about paths or methods either.
            if let refusal = CrossSiteCheck.refusal(method: request.method, request.browser) {
                return .error(403, "cross_site_request", refusal)
            }
            // Roles, as nginx checks them: a reader's request that would change something stops here.
            if let denied = accessDenied(request) { return denied }
            guard let route = try Self.route(request.uri) else {
                return .error(404, "not_found", "no such API path")
            }
            guard route.allowed.contains(request.method) else {
                return .error(405, "method_not_allowed",
                              "\(request.method) is not allowed here; use \(route.allowed.joined(separator: ", "))",
                              headers: [("Allow", route.allowed.joined(separator: ", "))])
            }
            guard request.body != nil else {
                return .error(413, "payload_too_large", "the request body is larger than \(Self.bodyLimit / 1024) KiB")
            }
            let query = try QueryParameters(uri: request.uri, allowed: route.queryParameters)
            let response = try dispatch(route, request, query: query)
            return request.method == "HEAD" ? headOnly(response) : response
        } catch let error as BackupError {
            return .error(error)
        } catch let error as RequestError {
            return .error(error.status, error.code, error.detail)
        } catch {
            logger.error("unexpected error", metadata: ["error": "\(error)"])
            return .error(500, "internal_error", "unexpected error: \(error)")
        }
    }

    /// The headers GET would send, Content-Length included, and no body.
    private func headOnly(_ response: APIResponse) -> APIResponse {
        var copy = response
        switch response.body {
        case let .file(fd, size):
            close(fd)
            copy.headers.append(("Content-Length", String(size)))
        case .json, .rawJSON, .gzipJSON:
            copy.headers.append(("Content-Length", String(response.bodyBytes.count)))
        case .empty:
            break
        }
        copy.body = .empty
        return copy
    }

    private func dispatch(_ route: Route, _ request: APIRequest, query: QueryParameters) throws -> APIResponse {
        let user = request.remoteUser
        // `Prefer: respond-async; wait=5, foo` — only each preference's first token counts.
        let async = request.prefer?.lowercased().split(separator: ",").contains {
            $0.split(separator: ";").first?.trimmingCharacters(in: .whitespaces) == "respond-async"
        } ?? false
        switch (route, request.method) {
        case (.collection, "GET"), (.collection, "HEAD"):
            // 1,000 backups make ~0.5 MB of JSON; most HTTP clients take gzip, which is ~30 times smaller and is
            // compressed once per change of the directory, not per request.
            let headers = [("Content-Type", "application/json"), ("Vary", "Accept-Encoding")]
            if request.acceptsGzip {
                return APIResponse(status: 200, headers: headers + [("Content-Encoding", "gzip")],
                                   body: .gzipJSON(try manager.listBodyGzip()))
            }
            return APIResponse(status: 200, headers: headers, body: .rawJSON(try manager.listBody()))
        case (.collection, _):
            let body = try RequestBody(request, allowed: ["description": .string])
            let description = try BackupManager.checkDescription(body.string("description") ?? "Manual backup")
            if async { return try accepted(jobs.start(.create(description: description), user: user)) }
            let metadata = try manager.create(description: description, kind: .manual, user: user ?? "-")
            return .json(201, .object([("success", .bool(true)), ("message", .string("Backup created successfully")),
                                       ("backup", metadata.listingJSON)]))
        case (.status, _):
            return .json(200, try manager.status().json)
        case (.backup(let name), "DELETE"):
            try manager.delete(name, user: user ?? "-")
            return .json(200, .object([("success", .bool(true)), ("message", .string("Backup \(name) deleted"))]))
        case (.backup(let name), _):
            return .json(200, try manager.info(name).listingJSON)
        case (.download(let name), _):
            return try download(name, request)
        case (.verify(let name), _):
            _ = try RequestBody(request, allowed: [:])
            return .json(200, try manager.verify(name).json)
        case (.restore, _):
            let body = try RequestBody(request, allowed: [
                "backup_filename": .string, "target_database": .string, "safety_backup": .bool,
                "terminate_connections": .bool,
            ])
            guard let name = body.string("backup_filename") else {
                throw RequestError(400, "invalid_input", "backup_filename is required")
            }
            _ = try BackupName.validate(name)
            let target = body.string("target_database")
            let safety = body.bool("safety_backup") ?? true
            let terminate = body.bool("terminate_connections") ?? false
            if async {
                // Check what can be checked now, so a bad request is a 4xx, not a failed job.
                let metadata = try manager.info(name)
                if let target, let problem = DatabaseName.problem(target) {
                    throw BackupError.invalidInput("invalid target database: \(problem)")
                }
                _ = try manager.restoreTarget(for: metadata, explicit: target)
                return try accepted(jobs.start(.restore(filename: name, targetDatabase: target, safetyBackup: safety,
                                                        terminateConnections: terminate), user: user))
            }
            return .json(200, try manager.restore(name, targetDatabase: target, safetyBackup: safety,
                                                  terminateConnections: terminate, user: user ?? "-").json)
        case (.cleanup, _):
            let body = try RequestBody(request, allowed: ["dry_run": .bool])
            let dryRun = try query.agreeing(query.bool("dry_run"), withBody: body.bool("dry_run"), field: "dry_run")
            return .json(200, try manager.cleanup(dryRun: dryRun ?? false, user: user ?? "-").json)
        case (.jobs, _):
            return .json(200, .array(try jobs.recent().map(\.json)))
        case (.job(let id), _):
            return .json(200, try jobs.read(id).json)
        default:
            throw RequestError(405, "method_not_allowed", "method not allowed")
        }
    }

    private func accepted(_ job: Job) -> APIResponse {
        .json(202, .object([("success", .bool(true)), ("message", .string("\(job.operation.name) started")), ("job", job.json)]),
              headers: [("Location", "/api/backups/jobs/\(job.id)")])
    }
}

/// A client mistake with its own status (400, 415…).
struct RequestError: Error {
    let status: Int
    let code: String
    let detail: String
    init(_ status: Int, _ code: String, _ detail: String) {
        self.status = status
        self.code = code
        self.detail = detail
    }
}

/// A JSON request body checked against the fields a route accepts: unknown fields, wrong types, malformed JSON
/// and non-JSON content types are refused before anything runs.
struct RequestBody {
    enum FieldType { case string, bool }
    let object: JSON

    init(_ request: APIRequest, allowed: [String: FieldType]) throws {
        let bytes = request.body ?? []
        if bytes.allSatisfy({ [0x20, 0x09, 0x0a, 0x0d].contains($0) }) {
            object = .object([])
            return
        }
        let mediaType = request.contentType?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        guard mediaType == "application/json" else {
            throw RequestError(415, "unsupported_media_type", "send the body as Content-Type: application/json")
        }
        let parsed: JSON
        do { parsed = try JSON.parse(bytes) } catch {
            throw RequestError(400, "invalid_json", "the body is not valid JSON: \(error)")
        }
        guard case let .object(fields) = parsed else {
            throw RequestError(400, "invalid_json", "the body must be a JSON object")
        }
        for (key, value) in fields {
            guard let type = allowed[key] else {
                let known = allowed.keys.sorted().joined(separator: ", ")
                throw RequestError(400, "unknown_field", "unknown field '\(key.prefix(64))'" + (known.isEmpty ? "; this request takes no fields" : "; allowed: \(known)"))
            }
            switch (type, value) {
            case (.string, .string), (.bool, .bool), (_, .null): continue
            default:
                throw RequestError(400, "invalid_field_type",
                                   "field '\(key)' must be a \(type == .string ? "string" : "boolean"), not \(value.typeName)")
            }
        }
        object = parsed
    }

    func string(_ key: String) -> String? { object[key]?.stringValue }
    func bool(_ key: String) -> Bool? { object[key]?.boolValue }
}
