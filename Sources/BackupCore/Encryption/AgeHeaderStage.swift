/// The end of a verify without the key: checks that the stored bytes are a well-formed age file — the
/// `age-encryption.org/v1` line, at least one recipient stanza (`-> type args…` and its base64 body), the `---`
/// MAC line — followed by a payload at least as long as its nonce and one chunk's tag. The content is not (and
/// cannot be) checked without the identity; the sidecar's sha256 says the bytes are the ones written.
/// `finish()` throws `AgeError.badHeader` saying what is wrong.
final class AgeHeaderStage: ByteStage {
    /// Far more than any header holds (a stanza is about 100 bytes); a file without its MAC line by then is not age.
    static let headerLimit = 1 << 20
    /// A 16-byte nonce, then chunks of which even an empty file has one (its 16-byte tag).
    static let minimumPayload: Int64 = 32

    private var header: [UInt8] = []
    private var headerDone = false
    private var payloadBytes: Int64 = 0

    func write(_ chunk: UnsafeRawBufferPointer) throws {
        if headerDone {
            payloadBytes += Int64(chunk.count)
            return
        }
        for (index, byte) in chunk.enumerated() {
            header.append(byte)
            if byte == UInt8(ascii: "\n"), isMACLine(header) {
                headerDone = true
                payloadBytes = Int64(chunk.count - index - 1)
                return
            }
            if header.count >= Self.headerLimit { throw AgeError.badHeader("no header end (---) in the first 1 MiB") }
        }
    }

    func finish() throws {
        guard headerDone else { throw AgeError.badHeader("the file ends inside the header") }
        let lines = header.dropLast().split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
        if let problem = Self.problem(lines) { throw AgeError.badHeader(problem) }
        guard payloadBytes >= Self.minimumPayload else {
            throw AgeError.badHeader("the payload is \(payloadBytes) bytes, shorter than its nonce and one chunk")
        }
    }

    /// Whether the header so far ends with a line that starts `---` (age's MAC line), just completed.
    private func isMACLine(_ bytes: [UInt8]) -> Bool {
        let body = bytes.dropLast()
        let start = body.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? body.startIndex
        return body[start...].starts(with: Array("---".utf8)) && start > body.startIndex
    }

    /// What is wrong with the header's lines (the last being the MAC line), or nil.
    static func problem(_ lines: [String]) -> String? {
        guard lines.first == "age-encryption.org/v1" else { return "the first line is not age-encryption.org/v1" }
        var index = 1
        var stanzas = 0
        while index < lines.count - 1 {
            let line = lines[index]
            let arguments = line.split(separator: " ", omittingEmptySubsequences: false).dropFirst()
            guard line.hasPrefix("-> "), !arguments.isEmpty, arguments.allSatisfy({ !$0.isEmpty && isPrintable($0) }) else {
                return "line \(index + 1) is not a recipient stanza"
            }
            stanzas += 1
            index += 1
            // The body: full 64-character lines, ended by a shorter one (possibly empty).
            while true {
                guard index < lines.count - 1 else { return "stanza \(stanzas)'s body is not ended" }
                let body = lines[index]
                guard body.count <= 64, isBase64(body) else { return "line \(index + 1) is not a stanza body" }
                index += 1
                if body.count < 64 { break }
            }
        }
        guard stanzas > 0 else { return "the header has no recipient stanza" }
        let mac = lines[lines.count - 1]
        guard mac.hasPrefix("--- "), mac.count == 47, isBase64(String(mac.dropFirst(4))) else {
            return "the MAC line is not '--- ' and 43 base64 characters"
        }
        return nil
    }

    private static func isPrintable<S: StringProtocol>(_ text: S) -> Bool {
        text.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7f }
    }

    private static func isBase64(_ text: String) -> Bool {
        text.utf8.allSatisfy { byte in
            (0x41...0x5a).contains(byte) || (0x61...0x7a).contains(byte) || (0x30...0x39).contains(byte)
                || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "/")
        }
    }
}
