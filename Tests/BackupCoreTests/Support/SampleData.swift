import TestSupport

enum SampleData {
    private static let words: [[UInt8]] = [
        "customer", "order", "invoice", "alpha", "beta", "gamma", "delta", "postgres", "backup", "restore",
        "Berlin", "Paris", "Lisbon", "Oslo", "Kyoto", "shipped", "pending", "cancelled", "refund", "widget",
        "gadget", "sprocket", "the", "and", "of", "with", "quick", "brown", "fox", "lazy", "dog", "\\N", "true",
        "false", "2026-01-29", "14:30:22", "EUR", "USD", "note", "warehouse",
    ].map { Array($0.utf8) }

    /// Text shaped like COPY data: tab-separated rows of words, numbers and dates.
    static func text(bytes count: Int, seed: UInt64 = 1) -> [UInt8] {
        var rng = SplitMix64(state: seed)
        var out = [UInt8]()
        out.reserveCapacity(count + 128)
        var row = 0
        while out.count < count {
            row += 1
            out.append(contentsOf: Array(String(row).utf8))
            for _ in 0..<Int(rng.next() % 6 + 2) {
                out.append(0x09)
                if rng.next() % 3 == 0 {
                    out.append(contentsOf: Array(String(rng.next() % 1_000_000).utf8))
                } else {
                    out.append(contentsOf: words[Int(rng.next() % UInt64(words.count))])
                }
            }
            out.append(0x0a)
        }
        return Array(out.prefix(count))
    }

    /// Incompressible bytes.
    static func random(bytes count: Int, seed: UInt64 = 7) -> [UInt8] {
        var rng = SplitMix64(state: seed)
        var out = [UInt8]()
        out.reserveCapacity(count + 8)
        while out.count < count {
            let value = rng.next()
            for shift in stride(from: 0, to: 64, by: 8) { out.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
        }
        return Array(out.prefix(count))
    }
}
