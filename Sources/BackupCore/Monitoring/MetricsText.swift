import Foundation

/// Writes the Prometheus text exposition format 0.0.4: for each metric family a `# HELP` and a `# TYPE` line, then
/// its samples, families never interleaved. Names are checked (a bad one is a programming error, so it traps in
/// debug builds and is written as given otherwise); label values and help text are escaped as the format says.
public struct MetricsText: Sendable {
    public enum Kind: String, Sendable { case gauge, counter }

    /// One sample: labels in the order given, and a value.
    public struct Sample: Sendable {
        public var labels: [(String, String)]
        public var value: Double

        public init(_ labels: [(String, String)], _ value: Double) {
            self.labels = labels
            self.value = value
        }

        public init(_ value: Double) {
            self.init([], value)
        }
    }

    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    private(set) var families: [String] = []
    private var text = ""

    public init() {}

    /// The exposition, ending with a newline (empty when there is no family).
    public var rendered: String { text }

    /// Adds a family. A family with no sample still gets its HELP and TYPE lines, which promtool accepts and which
    /// tells a reader the metric exists but has nothing to report now (no backup yet, say).
    public mutating func add(_ name: String, _ kind: Kind = .gauge, help: String, _ samples: [Sample]) {
        assert(Self.isValidName(name), "bad metric name \(name)")
        assert(!families.contains(name), "metric family \(name) added twice")
        families.append(name)
        text += "# HELP \(name) \(Self.escapeHelp(help))\n# TYPE \(name) \(kind.rawValue)\n"
        for sample in samples {
            text += name
            if !sample.labels.isEmpty {
                text += "{" + sample.labels.map { key, value in
                    assert(Self.isValidLabelName(key), "bad label name \(key)")
                    return "\(key)=\"\(Self.escapeLabelValue(value))\""
                }.joined(separator: ",") + "}"
            }
            text += " \(Self.format(sample.value))\n"
        }
    }

    /// One unlabelled sample.
    public mutating func add(_ name: String, _ kind: Kind = .gauge, help: String, value: Double) {
        add(name, kind, help: help, [Sample(value)])
    }

    /// A timestamp in seconds since the epoch, or no sample when there is no such time.
    public mutating func add(_ name: String, help: String, time: Date?) {
        add(name, help: help, time.map { [Sample($0.timeIntervalSince1970)] } ?? [])
    }

    /// `\` → `\\`, `"` → `\"`, line feed → `\n` (the format's three escapes in label values).
    public static func escapeLabelValue(_ value: String) -> String {
        var out = ""
        for character in value.unicodeScalars {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    /// `\` → `\\` and line feed → `\n` (help text has no quotes to escape).
    public static func escapeHelp(_ help: String) -> String {
        help.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }

    /// Integers without a fraction (sizes and counts stay exact up to 2^53), others in Swift's shortest
    /// round-tripping form; NaN and infinities as the format spells them.
    public static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 9.007_199_254_740_992e15 { return String(Int64(value)) }
        return "\(value)"
    }

    /// `[a-zA-Z_:][a-zA-Z0-9_:]*`
    public static func isValidName(_ name: String) -> Bool {
        isValid(name, extra: ":")
    }

    /// `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__` (reserved).
    public static func isValidLabelName(_ name: String) -> Bool {
        isValid(name, extra: "") && !name.hasPrefix("__")
    }

    private static func isValid(_ name: String, extra: String) -> Bool {
        guard let first = name.unicodeScalars.first else { return false }
        let letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_" + extra
        guard letters.unicodeScalars.contains(first) else { return false }
        let rest = letters + "0123456789"
        return name.unicodeScalars.allSatisfy { rest.unicodeScalars.contains($0) }
    }
}
