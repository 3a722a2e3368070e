import Foundation
import TestSupport

@testable import BackupCore

/// A key pair made by `age-keygen` in a temporary directory, and age run the way pgbackup runs it.
final class AgeKeys {
    let directory: TemporaryDirectory
    /// The identity (private key) file, mode 0600.
    let identityFile: String
    /// A recipients file holding the public key, mode 0644.
    let recipientsFile: String
    let publicKey: String
    let secretKey: String

    init() throws {
        _ = Self.ignoreSIGPIPE
        directory = try TemporaryDirectory(prefix: "age")
        identityFile = directory.appending("key.txt").path
        let made = try ProcessRunner.run(try ProcessRunner.tool("age-keygen"), ["-o", identityFile])
        guard made.status == 0 else { throw HarnessError.commandFailed("age-keygen", made) }
        let text = try String(contentsOfFile: identityFile, encoding: .utf8)
        secretKey = text.split(separator: "\n").first { $0.hasPrefix("AGE-SECRET-KEY-") }.map(String.init) ?? ""
        publicKey = text.split(separator: "\n").first { $0.hasPrefix("# public key: ") }
            .map { String($0.dropFirst("# public key: ".count)) } ?? ""
        chmod(identityFile, 0o600)
        recipientsFile = directory.appending("recipients.txt").path
        try Data("# the backup key\n\(publicKey)\n".utf8).write(to: URL(fileURLWithPath: recipientsFile))
        chmod(recipientsFile, 0o644)
    }

    deinit { directory.remove() }

    /// Writing to a child that exited must be an error (EPIPE), not the end of the test process.
    private static let ignoreSIGPIPE: Void = { _ = signal(SIGPIPE, SIG_IGN) }()

    var tool: AgeTool { AgeTool(environment: ProcessInfo.processInfo.environment) }

    func recipients() throws -> AgeRecipients { try AgeRecipients.load(path: recipientsFile) }

    func identity() throws -> AgeIdentity { try AgeIdentity.check(path: identityFile) }

    /// `input` encrypted by `AgeEncryptStage`, fed in `pieces`.
    func encrypt(_ input: [UInt8], pieces: [Int] = [Int.max]) throws -> [UInt8] {
        let sink = CollectingStage()
        try StageRun.feed(input, to: try AgeEncryptStage(recipients: try recipients(), tool: tool, next: sink), pieces: pieces)
        return sink.bytes
    }
}
