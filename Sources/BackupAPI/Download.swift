import BackupCore
import Foundation

/// Downloads: the whole file (200), or one byte range of it (206) so an interrupted download resumes. The ETag is
/// the sidecar's sha256, so `If-Range` resumes only the same bytes. Multi-range requests get the whole file,
/// which RFC 9110 §14.2 allows.
extension Router {
    func download(_ name: String, _ request: APIRequest) throws -> APIResponse {
        let file = try manager.openForDownload(name)
        let etag = file.metadata.sha256.map { "\"\($0)\"" }
        var headers: [(String, String)] = [
            ("Content-Type", file.metadata.contentType),
            ("Content-Disposition", "attachment; filename=\"\(file.metadata.filename)\""),
            ("Accept-Ranges", "bytes"),
        ]
        if let sha256 = file.metadata.sha256 { headers.append(("X-Content-SHA256", sha256)) }
        if let etag { headers.append(("ETag", etag)) }

        // If-Range names the version the client holds; any other (or a date: we send no Last-Modified) means
        // "send it all", never a range of different bytes.
        let rangeApplies = request.ifRange.map { $0.trimmingCharacters(in: .whitespaces) == etag } ?? true
        guard rangeApplies, let header = request.range else {
            return APIResponse(status: 200, headers: headers, body: .download(file.body))
        }
        let size = file.body.size
        switch ByteRange.parse(header, size: size) {
        case .none:
            return APIResponse(status: 200, headers: headers, body: .download(file.body))
        case .unsatisfiable:
            return .error(416, "range_not_satisfiable", "the range \(header.prefix(80)) is outside the file's \(size) bytes",
                          headers: [("Content-Range", "bytes */\(size)"), ("Accept-Ranges", "bytes")])
        case let .bytes(first, last):
            do {
                try file.body.select(from: first, count: last - first + 1)
            } catch {
                throw BackupError.invalidInput("cannot seek to byte \(first) of \(name)")
            }
            return APIResponse(status: 206, headers: headers + [("Content-Range", "bytes \(first)-\(last)/\(size)")],
                               body: .download(file.body))
        }
    }
}

/// A single `Range: bytes=…` header (RFC 9110 §14.1.2) against a file of `size` bytes.
enum ByteRange: Equatable {
    /// No usable range (absent, malformed, another unit, several ranges): send the whole file.
    case none
    case unsatisfiable
    /// Inclusive offsets.
    case bytes(first: Int64, last: Int64)

    static func parse(_ header: String, size: Int64) -> ByteRange {
        let text = header.trimmingCharacters(in: .whitespaces)
        guard text.lowercased().hasPrefix("bytes=") else { return .none }
        let spec = text.dropFirst(6).trimmingCharacters(in: .whitespaces)
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return .none }
        let start = spec[..<dash].trimmingCharacters(in: .whitespaces)
        let end = spec[spec.index(after: dash)...].trimmingCharacters(in: .whitespaces)
        let digits = { (part: String) in !part.isEmpty && part.utf8.allSatisfy { (0x30...0x39).contains($0) } }
        if start.isEmpty {
            // Suffix: the last N bytes; an N too long for Int64 is longer than any file, so it selects the whole
            // file like any other suffix longer than the file (RFC 9110 §14.1.2).
            guard digits(end) else { return .none }
            let count = Int64(end) ?? Int64.max
            guard count > 0, size > 0 else { return .unsatisfiable }
            return .bytes(first: max(0, size - count), last: size - 1)
        }
        guard digits(start), end.isEmpty || digits(end) else { return .none }
        // Offsets too long for Int64 are beyond any file.
        guard let first = Int64(start), first < size else { return .unsatisfiable }
        let last = end.isEmpty ? size - 1 : min(Int64(end) ?? Int64.max, size - 1)
        guard last >= first else { return .none }  // "5-2" is invalid: ignored, as RFC 9110 says
        return .bytes(first: first, last: last)
    }
}
