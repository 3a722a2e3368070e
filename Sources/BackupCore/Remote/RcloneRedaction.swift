import Foundation

/// Takes the credentials of the rclone config file out of rclone's messages before they are shown, logged or
/// recorded: every value of a key that can hold a secret (`secret_access_key`, `access_key_id`, `pass`,
/// `token`, `key`, `sas_url`, ...) is masked wherever it appears, together with the database password.
struct RcloneRedaction: Sendable {
    let secrets: [String]

    /// Key names (or parts of them) whose values are credentials in rclone's backends.
    static let secretKeyParts = ["secret", "key", "pass", "token", "sas", "credential", "session", "auth", "account"]

    init(configPath: String, password: String?) {
        var found: [String] = password.map { [$0] } ?? []
        let bytes = (try? FileSystem.readSmallFile(configPath)).flatMap { $0 } ?? []
        for line in String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline) {
            guard let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            guard Self.secretKeyParts.contains(where: key.contains), value.count >= 4,
                  !["true", "false"].contains(value.lowercased()) else { continue }
            found.append(value)
        }
        // Longest first, so a secret that contains another is masked whole.
        secrets = found.filter { !$0.isEmpty }.sorted { $0.count > $1.count }
    }

    func redact(_ text: String) -> String {
        var result = text
        for secret in secrets {
            result = secret.count >= 4 ? result.replacingOccurrences(of: secret, with: Redaction.mask)
                : Redaction.maskWholeWords(secret, in: result)
        }
        return result
    }
}
