import Foundation

/// Watches a plain pg_dump stream go by and decides at the end whether it is complete: it must end with
/// "-- PostgreSQL database dump complete", and when the head carried `\restrict KEY`, with `\unrestrict KEY`.
/// Only the first few KiB and the last few KiB are kept, whatever the dump's size.
public struct DumpTrailer: Sendable {
    private static let headLimit = 16 * 1024
    private static let tailLimit = 4 * 1024
    private var head: [UInt8] = []
    private var tail: [UInt8] = []
    public private(set) var byteCount: Int64 = 0

    public init() {}

    public mutating func consume(_ bytes: UnsafeRawBufferPointer) {
        byteCount += Int64(bytes.count)
        if head.count < Self.headLimit { head.append(contentsOf: bytes.prefix(Self.headLimit - head.count)) }
        if bytes.count >= Self.tailLimit {
            tail = Array(bytes.suffix(Self.tailLimit))
        } else {
            tail.append(contentsOf: bytes)
            if tail.count > Self.tailLimit { tail.removeFirst(tail.count - Self.tailLimit) }
        }
    }

    /// The key of the `\restrict` line near the top, if any.
    public var restrictKey: String? {
        for line in String(decoding: head, as: UTF8.self).split(separator: "\n").prefix(40) {
            if line.hasPrefix("\\restrict ") { return String(line.dropFirst(10)).trimmingCharacters(in: .whitespaces) }
        }
        return nil
    }

    /// nil when the dump is complete, else what is missing.
    public var problem: String? {
        var lines = String(decoding: tail, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        let key = restrictKey
        if let key {
            guard let last = lines.last, last.hasPrefix("\\unrestrict ") else {
                return "the dump does not end with \\unrestrict (it was cut short)"
            }
            guard last.dropFirst(12).trimmingCharacters(in: .whitespaces) == key else {
                return "the \\unrestrict key does not match the \\restrict key at the top"
            }
            lines.removeLast()
        }
        while lines.last == "--" { lines.removeLast() }
        guard lines.last == "-- PostgreSQL database dump complete" else {
            return "the dump does not end with pg_dump's completion line (it was cut short)"
        }
        return nil
    }
}
