import Foundation

/// `BACKUP_AGE_RECIPIENTS_FILE`: the age public keys every new backup is encrypted to, read as `age -R` reads the
/// file — one X25519 recipient (`age1…`) a line, `#` comments and blank lines ignored. The file is checked when the
/// configuration is read, so a program with a bad one stops at startup instead of ever making a plaintext backup.
public struct AgeRecipients: Sendable, Equatable {
    public static let variable = "BACKUP_AGE_RECIPIENTS_FILE"

    /// The file, as an absolute path (age gets it as `-R PATH`).
    public let path: String
    /// The recipients, in the file's order.
    public let keys: [String]

    /// Reads and checks the file: it must be readable, not writable by everyone, and hold at least one recipient
    /// and nothing that is not one. A failure is `invalidConfiguration` naming the file (and the line).
    public static func load(path given: String) throws -> AgeRecipients {
        let path = URL(fileURLWithPath: given).standardizedFileURL.path
        func refuse(_ reason: String) -> BackupError {
            .invalidConfiguration(variable: variable, value: path, reason: reason)
        }
        var info = stat()
        guard stat(path, &info) == 0 else { throw refuse("cannot read the file (\(Errno.message(errno)))") }
        guard info.st_mode & S_IFMT == S_IFREG else { throw refuse("not a regular file") }
        guard info.st_mode & S_IWOTH == 0 else {
            throw refuse("the file is writable by everyone (mode \(String(info.st_mode & 0o777, radix: 8))): "
                + "anyone could add their own key; chmod o-w it")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw refuse("cannot read the file") }
        do {
            return AgeRecipients(path: path, keys: try parse(String(decoding: data, as: UTF8.self)))
        } catch let problem as Problem {
            throw refuse(problem.description)
        }
    }

    /// Where a recipients file's text is wrong, for a message; line 0 is the whole file. A line's text is never
    /// shown: a private key pasted by mistake must not reach a log.
    public struct Problem: Error, Equatable, CustomStringConvertible {
        public let line: Int
        public let reason: String

        public var description: String { line == 0 ? reason : "line \(line): \(reason)" }
    }

    /// The recipients in `text`; throws the first `Problem`: a line that is not an `age1…` X25519 recipient (its
    /// bech32 checksum included), or no recipient at all.
    static func parse(_ text: String) throws -> [String] {
        var keys: [String] = []
        // "\r\n" is one Character in Swift; age reads it as a line end too.
        let lines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
        for (index, line) in lines.enumerated() {
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard Bech32.isX25519Recipient(String(line)) else {
                let reason = line.hasPrefix("AGE-SECRET-KEY-")
                    ? "a private key (AGE-SECRET-KEY-…), which must never be on the server; put its public key here "
                        + "(age-keygen -y prints it)"
                    : "not an age X25519 recipient (age1…, as age-keygen prints it)"
                throw Problem(line: index + 1, reason: reason)
            }
            keys.append(String(line))
        }
        guard !keys.isEmpty else { throw Problem(line: 0, reason: "the file holds no recipient (age1… lines)") }
        return keys
    }
}
