import BackupCore

extension Router {
    /// The routes, as (path pattern, allowed methods).
    enum Route: Equatable {
        case collection
        case status
        case metrics
        case cleanup
        case restore
        case rollback
        case jobs
        case job(String)
        case download(String)
        case verify(String)
        case drill(String)
        case backup(String)
        case push
        case sync

        var allowed: [String] {
            switch self {
            case .collection: ["GET", "HEAD", "POST"]
            case .status, .metrics, .jobs, .job, .download: ["GET", "HEAD"]
            case .cleanup, .restore, .rollback, .verify, .drill, .push, .sync: ["POST"]
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
            case "metrics": return .metrics
            case "cleanup": return .cleanup
            case "restore": return .restore
            case "rollback": return .rollback
            case "jobs": return .jobs
            case "push": return .push
            case "sync": return .sync
            case "": return nil
            default: return .backup(segments[0])
            }
        case 2:
            if segments[0] == "download" { return .download(segments[1]) }
            if segments[0] == "jobs" { return .job(segments[1]) }
            if segments[1] == "verify" { return .verify(segments[0]) }
            if segments[1] == "drill" { return .drill(segments[0]) }
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
}
