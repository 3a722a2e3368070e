import Foundation

/// A backup's two clocks: the time in its generated name and its sidecar's `created_at` come from the same
/// moment, so they agree to the second. A sidecar that disagrees by more than a minute was edited or copied from
/// another backup; one dated in the future (a clock stepped back, skew) would hold scheduled backups off.
public enum BackupDating {
    /// How far the two may differ, and how far ahead of now a `created_at` may be (clock skew between hosts).
    public static let tolerance: TimeInterval = 60

    /// The UTC time in `backup_<db>_<YYYYMMDD>_<HHMMSS>[_N].sql.gz` (or `.sql.zst`), or nil when the name has none.
    public static func nameTimestamp(_ name: String) -> Date? {
        guard let suffix = BackupName.suffix(of: name) else { return nil }
        var parts = name.dropLast(suffix.count).split(separator: "_", omittingEmptySubsequences: false)
        if parts.count >= 4, let last = parts.last, last.count != 6 { parts.removeLast() }
        guard parts.count >= 4 else { return nil }
        let date = parts[parts.count - 2]
        let time = parts[parts.count - 1]
        guard date.count == 8, time.count == 6, (date + time).allSatisfy(\.isASCII), (date + time).allSatisfy(\.isNumber)
        else { return nil }
        let text = "\(date.prefix(4))-\(date.dropFirst(4).prefix(2))-\(date.suffix(2))T\(time.prefix(2)):\(time.dropFirst(2).prefix(2)):\(time.suffix(2))Z"
        return Timestamp.parse(text)
    }

    /// Why the sidecar's `created_at` cannot be right, or nil when it agrees with the name.
    public static func nameMismatch(filename: String, createdAt: Date) -> String? {
        guard let named = nameTimestamp(filename) else { return nil }
        let difference = createdAt.timeIntervalSince(named)
        // The name holds whole seconds of the same instant: it is up to one second earlier.
        guard difference < -tolerance || difference > tolerance + 1 else { return nil }
        return "its metadata's created_at (\(Timestamp.iso8601(createdAt))) disagrees with the time in its name "
            + "(\(Timestamp.iso8601(named))) by \(describe(abs(difference)))"
    }

    /// Why `createdAt` is in the future, or nil.
    public static func inFuture(_ createdAt: Date, now: Date) -> String? {
        guard createdAt.timeIntervalSince(now) > tolerance else { return nil }
        return "its created_at (\(Timestamp.iso8601(createdAt))) is \(describe(createdAt.timeIntervalSince(now))) in the future"
    }

    static func describe(_ seconds: TimeInterval) -> String {
        switch seconds {
        case ..<120: "\(Int(seconds)) s"
        case ..<7200: "\(Int(seconds / 60)) min"
        case ..<172_800: "\(Int(seconds / 3600)) h"
        default: "\(Int(seconds / 86_400)) days"
        }
    }
}
