import Foundation

/// UTC time formats used in names and sidecars.
public enum Timestamp {
    private static func components(_ date: Date) -> (tm, Int) {
        // Round to whole microseconds once, so a date read back from a sidecar prints the same.
        let micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        var seconds = time_t(micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return (parts, Int(micros - Int64(seconds) * 1_000_000))
    }

    /// `YYYYMMDD_HHMMSS`, the old tool's `timestamp` field and the name part.
    public static func compact(_ date: Date) -> String {
        let (t, _) = components(date)
        return String(
            format: "%04d%02d%02d_%02d%02d%02d", Int(t.tm_year) + 1900, Int(t.tm_mon) + 1, Int(t.tm_mday),
            Int(t.tm_hour), Int(t.tm_min), Int(t.tm_sec))
    }

    /// `YYYY-MM-DDTHH:MM:SS.ffffffZ`, the old tool's `created_at` with microseconds, marked UTC.
    public static func iso8601(_ date: Date) -> String {
        let (t, micros) = components(date)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", Int(t.tm_year) + 1900, Int(t.tm_mon) + 1, Int(t.tm_mday),
            Int(t.tm_hour), Int(t.tm_min), Int(t.tm_sec), micros)
    }

    /// Parses `created_at` as written by us or by the old tool: `YYYY-MM-DDTHH:MM:SS[.f{1,9}][Z|+00:00]`
    /// (no zone means UTC). Anything else, including an impossible date, is nil.
    public static func parse(_ text: String) -> Date? {
        var bytes = Array(text.utf8)
        if bytes.last == UInt8(ascii: "Z") {
            bytes.removeLast()
        } else if bytes.count > 6, bytes.suffix(6).elementsEqual("+00:00".utf8) {
            bytes.removeLast(6)
        }
        guard bytes.count >= 19 else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for byte in bytes[range] {
                guard (0x30...0x39).contains(byte) else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            return value
        }
        let separators: [(Int, UInt8)] = [(4, 0x2d), (7, 0x2d), (10, 0x54), (13, 0x3a), (16, 0x3a)]
        guard separators.allSatisfy({ bytes[$0.0] == $0.1 }),
              let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
              (1970...9999).contains(year), (1...12).contains(month), (1...31).contains(day), hour <= 23,
              minute <= 59, second <= 59
        else { return nil }
        var fraction = 0.0
        if bytes.count > 19 {
            let digits = bytes.count - 20
            guard bytes[19] == UInt8(ascii: "."), (1...9).contains(digits), let value = number(20..<bytes.count) else {
                return nil
            }
            fraction = Double(value) / pow(10, Double(digits))
        }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        var seconds = timegm(&parts)
        // timegm rolls Feb 31 over to March: read the result back and refuse a date that moved.
        var check = tm()
        gmtime_r(&seconds, &check)
        guard Int(check.tm_mday) == day, Int(check.tm_mon) == month - 1 else { return nil }
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }
}
