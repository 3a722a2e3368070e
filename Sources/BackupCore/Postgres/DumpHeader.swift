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

    /// Decodes the start of a stored backup and reads its header; a dump it cannot read gives an empty header (the
    /// verify pass that follows reports what is wrong with it).
    ///
    ///     stored dump → [age -d] → codec decoder → the first 64 KiB
    static func read(_ name: String, from storage: any BackupStorage, codec: Codec,
                     decrypting key: (AgeIdentity, AgeTool)? = nil) -> DumpHeader {
        let head = PrefixSink(limit: limit)
        guard let dump = try? storage.openDump(name), let decoder = try? codec.decoder(next: head) else {
            return DumpHeader()
        }
        let decryption = key.flatMap { try? AgeDecryptStage(identity: $0.0, tool: $0.1, next: decoder) }
        // Stops at the limit (`PrefixSink.Full`), at the end, or at the first damage: what came before still counts.
        try? dump.source.pump(into: decryption ?? decoder, chunkSize: 16 * 1024)
        // age's output thread wrote `head`: it is done once age is stopped.
        decryption?.cancel()
        return parse(String(decoding: head.bytes, as: UTF8.self))
    }
}

extension Substring {
    fileprivate func afterPrefix(_ prefix: String) -> Substring? {
        hasPrefix(prefix) ? dropFirst(prefix.count) : nil
    }
}
