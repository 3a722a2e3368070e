import Foundation
import TestSupport

@testable import BackupCore

/// A key pair made by `age-keygen` in a temporary directory, and age run the way pgbackup runs it.
final class AgeKeys {
    let directory: TemporaryDirectory
    /// The identity (private key) file (0600), a recipients file holding its public key (0644), and both keys.
    let pair: AgeKeyPair
    var identityFile: String { pair.identityFile }
    var recipientsFile: String { pair.recipientsFile }
    var publicKey: String { pair.publicKey }
    var secretKey: String { pair.secretKey }

    init() throws {
        _ = Self.ignoreSIGPIPE
        directory = try TemporaryDirectory(prefix: "age")
        pair = try AgeKeyPair(in: directory.url)
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
