import Foundation

/// An age key pair made by `age-keygen` in a directory of its own: the identity file (0600) and a recipients file
/// holding its public key, as an operator would set them up.
package struct AgeKeyPair: Sendable {
    package let identityFile: String
    package let recipientsFile: String
    package let publicKey: String
    /// The private key itself: it must never show up in argv, a log, a file in BACKUP_DIR or an answer.
    package let secretKey: String

    package init(in directory: URL, name: String = "key") throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        identityFile = directory.appendingPathComponent("\(name).txt").path
        let made = try ProcessRunner.run(try ProcessRunner.tool("age-keygen"), ["-o", identityFile])
        guard made.status == 0 else { throw HarnessError.commandFailed("age-keygen", made) }
        let text = try String(contentsOfFile: identityFile, encoding: .utf8)
        secretKey = text.split(separator: "\n").first { $0.hasPrefix("AGE-SECRET-KEY-") }.map(String.init) ?? ""
        publicKey = text.split(separator: "\n").first { $0.hasPrefix("# public key: ") }
            .map { String($0.dropFirst("# public key: ".count)) } ?? ""
        guard !secretKey.isEmpty, !publicKey.isEmpty else { throw HarnessError.setup("age-keygen wrote \(text)") }
        chmod(identityFile, 0o600)
        recipientsFile = directory.appendingPathComponent("\(name).recipients").path
        try Data("# pgbackup's backups\n\(publicKey)\n".utf8).write(to: URL(fileURLWithPath: recipientsFile))
        chmod(recipientsFile, 0o644)
    }

    /// BACKUP_AGE_RECIPIENTS_FILE set to this pair's public key.
    package var encrypting: [String: String] { ["BACKUP_AGE_RECIPIENTS_FILE": recipientsFile] }

    /// `age -d -i IDENTITY FILE`, the plaintext of an age file (by hand, no pgbackup involved).
    package func decrypt(_ url: URL) throws -> Data {
        let result = try ProcessRunner.run(try ProcessRunner.tool("age"), ["-d", "-i", identityFile, url.path])
        guard result.status == 0 else { throw HarnessError.commandFailed("age -d \(url.path)", result) }
        return result.stdout
    }
}
