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
        case let .download(body):
            copy.headers.append(("Content-Length", String(body.count)))
        case .json, .rawJSON, .gzipJSON, .text:
            copy.headers.append(("Content-Length", String(response.bodyBytes.count)))
        case .empty:
            break
        }
        copy.body = .empty
        return copy
    }

    private func dispatch(_ route: Route, _ request: APIRequest, query: QueryParameters) throws -> APIResponse {
        switch route {
        case .collection where request.method == "POST": return try create(request)
        case .collection: return try list(request)
        case .status: return .json(200, try manager.status().json)
        case .metrics:
            return APIResponse(status: 200, headers: [("Content-Type", MetricsText.contentType)],
                               body: .text(Array(try manager.metrics().text.utf8)))
        case .backup(let name) where request.method == "DELETE":
            // Checked like every field-less operation's: a misplaced {"dry_run": true} must not delete for real.
            _ = try RequestBody(request, allowed: [:])
            return .json(200, try manager.delete(name, user: request.remoteUser ?? "-").json)
        case .backup(let name): return .json(200, try manager.info(name).listingJSON)
        case .download(let name): return try download(name, request)
        case .verify(let name):
            _ = try RequestBody(request, allowed: [:])
            return .json(200, try manager.verify(name).json)
        case .restore: return try restore(request)
        case .rollback: return try rollback(request)
        case .drill(let name): return try drill(name, request)
        case .cleanup:
            let body = try RequestBody(request, allowed: ["dry_run": .bool])
            let dryRun = try query.agreeing(query.bool("dry_run"), withBody: body.bool("dry_run"), field: "dry_run")
            return .json(200, try manager.cleanup(dryRun: dryRun ?? false, user: request.remoteUser ?? "-").json)
        case .push:
            _ = try RequestBody(request, allowed: [:])
            return .json(200, try manager.push(user: request.remoteUser ?? "-").json)
        case .sync:
            _ = try RequestBody(request, allowed: [:])
            return .json(200, try manager.sync(user: request.remoteUser ?? "-").json)
        case .jobs: return .json(200, try jobs.recent().json)
        case .job(let id): return .json(200, try jobs.read(id).json)
        }
    }

    private func list(_ request: APIRequest) throws -> APIResponse {
        // 1,000 backups make ~0.5 MB of JSON; most HTTP clients take gzip, which is ~30 times smaller and is
        // compressed once per change of the directory, not per request.
        let headers = [("Content-Type", "application/json"), ("Vary", "Accept-Encoding")]
        if request.acceptsGzip {
            return APIResponse(status: 200, headers: headers + [("Content-Encoding", "gzip")],
                               body: .gzipJSON(try manager.listBodyGzip()))
        }
        return APIResponse(status: 200, headers: headers, body: .rawJSON(try manager.listBody()))
    }

    private func create(_ request: APIRequest) throws -> APIResponse {
        let body = try RequestBody(request, allowed: ["description": .string])
        let description = try BackupManager.checkDescription(body.string("description") ?? "Manual backup")
        if request.respondAsync {
            return accepted(try jobs.start(.create(description: description), user: request.remoteUser))
        }
        return .json(201, try manager.create(description: description, kind: .manual, user: request.remoteUser ?? "-").json)
    }

    private func restore(_ request: APIRequest) throws -> APIResponse {
        let body = try RequestBody(request, allowed: [
            "backup_filename": .string, "target_database": .string, "safety_backup": .bool,
            "terminate_connections": .bool, "mode": .string,
        ])
        guard let name = body.string("backup_filename") else {
            throw RequestError(400, "invalid_input", "backup_filename is required")
        }
        let target = body.string("target_database")
        let mode = body.string("mode") ?? "transaction"
        guard mode == "transaction" || mode == "swap" else {
            throw RequestError(400, "invalid_input", "mode must be \"transaction\" (the default) or \"swap\", not '\(mode.prefix(32))'")
        }
        let swap = mode == "swap"
        if swap, let problem = SwapNames.problem(target: target ?? manager.configuration.postgres.database) {
            throw RequestError(400, "invalid_input", problem)
        }
        // A swap keeps the previous database as its safety net: no safety backup unless asked for.
        let safety = body.bool("safety_backup") ?? !swap
        let terminate = body.bool("terminate_connections") ?? false
        if request.respondAsync {
            // Check what can be checked now, so a bad request is a 4xx, not a failed job.
            try manager.checkRestoreRequest(name, targetDatabase: target, backupMustExist: true)
            return accepted(try jobs.start(.restore(filename: name, targetDatabase: target, safetyBackup: safety,
                                                    terminateConnections: terminate, swap: swap), user: request.remoteUser))
        }
        let restore = swap ? manager.restoreSwap : manager.restore
        return .json(200, try restore(name, target, safety, terminate, request.remoteUser ?? "-", nil).json)
    }

    /// Swaps the newest kept previous database of the target back in (synchronous: it is one short transaction).
    private func rollback(_ request: APIRequest) throws -> APIResponse {
        let body = try RequestBody(request, allowed: ["target_database": .string, "terminate_connections": .bool])
        return .json(200, try manager.rollback(targetDatabase: body.string("target_database"),
                                               terminateConnections: body.bool("terminate_connections") ?? false,
                                               user: request.remoteUser ?? "-").json)
    }

    /// Like a restore's: synchronous (200 with the result; a failed drill is 422 with it under `drill`), or a job
    /// with `Prefer: respond-async`, after the checks that can be made at once.
    private func drill(_ name: String, _ request: APIRequest) throws -> APIResponse {
        _ = try RequestBody(request, allowed: [:])
        if request.respondAsync {
            try manager.checkDrillRequest(name)
            return accepted(try jobs.start(.drill(filename: name), user: request.remoteUser))
        }
        return .json(200, try manager.drill(name, user: request.remoteUser ?? "-").json)
    }

    private func accepted(_ started: StartedJob) -> APIResponse {
        .json(202, started.json, headers: [("Location", "/api/backups/jobs/\(started.job.id)")])
    }
}
