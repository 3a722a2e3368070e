@testable import BackupCore
import Testing

@Suite("Backup descriptions")
struct DescriptionTextTests {
    @Test("ordinary text is kept as it is", arguments: [
        "Manual backup", "Before major update", "Vor dem Update: Tabellen geändert", "日本語のメモ", "emoji 📦 ok",
        "mixed עברית and English", String(repeating: "a", count: 1000),
    ])
    func accepted(_ text: String) throws {
        #expect(try BackupManager.checkDescription(text) == text)
    }

    @Test("controls, separators and direction overrides are refused, naming the code point", arguments: [
        ("tab\there", "U+0009"), ("line\nbreak", "U+000A"), ("nul \u{0} byte", "U+0000"), ("esc \u{1B}[2J", "U+001B"),
        ("delete\u{7F}", "U+007F"), ("c1 \u{85} next line", "U+0085"), ("c1 \u{9B} csi", "U+009B"),
        ("gpj\u{202E}exe.", "U+202E"), ("embed \u{202A}", "U+202A"), ("isolate \u{2066}x\u{2069}", "U+2066"),
        ("mark \u{200F}", "U+200F"), ("arabic mark \u{61C}", "U+061C"),
        ("line\u{2028}separator", "U+2028"), ("paragraph\u{2029}separator", "U+2029"),
    ])
    func refused(_ text: String, _ codePoint: String) {
        #expect {
            try BackupManager.checkDescription(text)
        } throws: { error in
            "\(error)".contains("control characters") && "\(error)".contains("found \(codePoint)")
                && !"\(error)".contains(text)
        }
    }

    @Test("a description over 1000 bytes is refused")
    func tooLong() {
        #expect(throws: BackupError.self) { try BackupManager.checkDescription(String(repeating: "é", count: 501)) }
    }
}

@Suite("Sidecar text shown in a terminal")
struct DisplayableTextTests {
    @Test("text a create would accept is shown as it is", arguments: [
        "Manual backup", "Vor dem Update: Tabellen geändert", "日本語のメモ", "emoji 📦 ok", "mixed עברית and English", "",
    ])
    func kept(_ text: String) {
        #expect(DescriptionText.displayable(text) == text)
    }

    @Test("controls, DEL, separators and direction controls become U+FFFD, one for each", arguments: [
        ("old tool \u{1B}]0;pwned-title\u{7}\u{1B}[2J cleared", "old tool \u{FFFD}]0;pwned-title\u{FFFD}\u{FFFD}[2J cleared"),
        ("tab\there", "tab\u{FFFD}here"), ("crlf\r\nline", "crlf\u{FFFD}\u{FFFD}line"), ("nul \u{0}", "nul \u{FFFD}"),
        ("delete\u{7F}", "delete\u{FFFD}"), ("c1 \u{85} \u{9B}31m", "c1 \u{FFFD} \u{FFFD}31m"),
        ("gpj\u{202E}exe.", "gpj\u{FFFD}exe."), ("embed \u{202A}x\u{202C}", "embed \u{FFFD}x\u{FFFD}"),
        ("isolate \u{2066}x\u{2069}", "isolate \u{FFFD}x\u{FFFD}"), ("\u{2067}\u{2068}\u{202B}\u{202D}", "\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}"),
        ("mark \u{200F}", "mark \u{FFFD}"), ("line\u{2028}separator", "line\u{FFFD}separator"),
    ])
    func replaced(_ text: String, _ shown: String) {
        #expect(DescriptionText.displayable(text) == shown)
    }

    @Test("what displayable shows, a create would accept")
    func shownTextPassesTheCheck() throws {
        let hostile = (0..<0xA0).map { String(UnicodeScalar(UInt8($0))) }.joined() + "\u{202E}\u{2066}\u{2028}"
        let shown = DescriptionText.displayable(hostile)
        #expect(try BackupManager.checkDescription(shown) == shown)
    }
}
