/// Text from outside (a backup name, a query parameter's name) as an error message quotes it: printable ASCII is
/// kept and every other character becomes `?`. Replaced, never removed: `dry_run` with a NUL or a U+202E in it
/// must not be quoted as `dry_run`, or the message would call a valid name unknown.
public enum EchoedText {
    /// At most `limit` characters (Unicode scalars) of `text`, as described above.
    public static func shown(_ text: String, limit: Int = 80) -> String {
        String(text.unicodeScalars.prefix(limit).map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7f ? Character($0) : "?" })
    }
}
