import Foundation

/// The versions pg_dump writes at the top of a plain dump:
/// `-- Dumped from database version 17.7 (…)` and `-- Dumped by pg_dump version 17.7 (…)`.
struct DumpHeader: Equatable {
    var dumpedFrom: String?
    var dumpedBy: String?

    /// The header lines lie within the first few hundred bytes; 64 KiB of decoded text is plenty.
    static let limit = 64 * 1024

    static func parse(_ text: String) -> DumpHeader {
        var header = DumpHeader()
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            // The first of each counts: the same words later on (in a function body, say) are data.
            if header.dumpedFrom == nil, let rest = line.afterPrefix("-- Dumped from database version ") {
                header.dumpedFrom = String(rest)
            }
            if header.dumpedBy == nil, let rest = line.afterPrefix("-- Dumped by pg_dump version ") {
                header.dumpedBy = String(rest)
            }
        }
        return header
    }

    /// Decodes the start of a gzip backup and reads its header; a file it cannot read gives an empty header (the
    /// verify pass that follows reports what is wrong with it).
    static func read(path: String) -> DumpHeader {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return DumpHeader() }
        defer { close(fd) }
        guard let decoder = try? GzipDecoder() else { return DumpHeader() }
        struct Enough: Error {}
        var text = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        reading: while text.count < limit {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            do {
                try buffer.withUnsafeBytes { raw in
                    try decoder.feed(UnsafeRawBufferPointer(rebasing: raw[0..<count])) { decoded in
                        text.append(contentsOf: decoded.prefix(limit - text.count))
                        if text.count >= limit { throw Enough() }
                    }
                }
            } catch {
                break reading
            }
        }
        return parse(String(decoding: text, as: UTF8.self))
    }
}

extension Substring {
    fileprivate func afterPrefix(_ prefix: String) -> Substring? {
        hasPrefix(prefix) ? dropFirst(prefix.count) : nil
    }
}
