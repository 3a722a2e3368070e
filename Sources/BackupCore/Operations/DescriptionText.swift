/// The characters a backup description may not hold. A description is printed raw in the list table and written
/// into log lines, so anything that moves the cursor, breaks a line or reorders what follows it is refused:
/// every C0 and C1 control (tab included: it misaligns the table), DEL, the Unicode line and paragraph
/// separators, and the bidirectional controls (U+202E "right-to-left override" makes `gpj.exe` read `exe.jpg`).
public enum DescriptionText {
    /// What `displayable` puts in place of a refused character: visible, and never a terminal command.
    public static let replacement: Character = "\u{FFFD}"

    static func isRefused(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: true  // C0, DEL, C1
        case 0x2028, 0x2029: true  // line and paragraph separator
        case 0x061C, 0x200E, 0x200F: true  // arabic letter mark, left-to-right and right-to-left marks
        case 0x202A...0x202E, 0x2066...0x2069: true  // embeddings, overrides and isolates
        default: false
        }
    }

    /// Sidecar text as a terminal may show it: every character `checkDescription` refuses becomes `replacement`.
    /// Creates refuse them, but the old tool's sidecars, hand-edited ones and remote ones were never checked, and
    /// an ESC or a direction override in them would otherwise reach the operator's terminal from `list`.
    public static func displayable(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isRefused) else { return text }
        return String(text.unicodeScalars.map { isRefused($0) ? replacement : Character($0) })
    }

    /// `U+202E` for the message, so the character itself is never echoed back.
    static func codePoint(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }
}
