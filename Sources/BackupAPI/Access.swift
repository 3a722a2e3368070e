import BackupCore
import Logging

/// Roles, checked again behind nginx: readers may GET/HEAD everything but downloads; every other request needs
/// an operator (`PGBACKUP_OPERATORS`). The check comes before routing, as nginx's does, so a reader learns
/// nothing about paths or bodies and nothing runs.
extension Router {
    /// Whether a reader may make this request.
    static func isReadOnly(method: String, uri: String) -> Bool {
        guard method == "GET" || method == "HEAD" else { return false }
        // A path that does not parse is refused later with 400 or 404 whoever asks.
        if case .download? = (try? route(uri)) ?? nil { return false }
        return true
    }

    /// The 403 a reader gets, or nil when the request may go on.
    func accessDenied(_ request: APIRequest) -> APIResponse? {
        let operators = manager.configuration.operators
        guard !Self.isReadOnly(method: request.method, uri: request.uri), !operators.permits(request.remoteUser) else {
            return nil
        }
        let detail: String
        switch (operators, request.remoteUser) {
        case (.unset, _):
            detail = "PGBACKUP_OPERATORS is not set, so nobody may change anything or download through the API"
        case (_, nil):
            detail = "this request needs an operator and no user was authenticated"
        case (_, let user?):
            detail = "user '\(user.prefix(64))' may only read (GET or HEAD of list, status, metadata and jobs); this request needs an operator"
        }
        logger.warning("request refused: not an operator", metadata: [
            "method": "\(request.method.prefix(16))", "uri": "\(request.uri.prefix(200))",
            "user": "\(request.remoteUser?.prefix(64) ?? "-")"])
        return .error(403, "forbidden", detail)
    }
}
