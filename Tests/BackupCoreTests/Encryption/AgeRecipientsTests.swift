import Foundation
import TestSupport
import Testing

@testable import BackupCore

@Suite("age recipients file and identity file")
struct AgeRecipientsTests {
    /// A real X25519 recipient (age-keygen's output; a public key).
    static let key = "age1snu8hwehnwg2e5x2dd200z8e0pfl703av8dq6lty32cqdvm6ad0suy9jlm"
    static let other = "age1pwnmzyf79uvdk9mph6ff088fj4vhkkvvdykcyesg32ppltg8xgcqlkhpqp"

    @Test func readsRecipientsCommentsAndBlankLinesAsAgeDoes() throws {
        #expect(try AgeRecipients.parse("# backups\n\n\(Self.key)\r\n# second\n\(Self.key)\n") == [Self.key, Self.key])
    }

    @Test("a bad line is named by its number, its text never shown", arguments: [
        ("\(key)\nage1snu8hwehnwg2e5x2dd200z8e0pfl703av8dq6lty32cqdvm6ad0suy9jlx\n", 2),  // checksum
        ("#\n \(key)\n", 2),  // age reads no leading space
        ("\(key) \n", 1),
        ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO\n", 1),
        ("AGE1SNU8HWEHNWG2E5X2DD200Z8E0PFL703AV8DQ6LTY32CQDVM6AD0SUY9JLM\n", 1),
        ("age1\n", 1),
    ])
    func refusesABadLine(text: String, line: Int) throws {
        #expect(throws: AgeRecipients.Problem(line: line, reason: "not an age X25519 recipient (age1…, as age-keygen prints it)")) {
            try AgeRecipients.parse(text)
        }
    }

    @Test func aPrivateKeyIsRefusedAndSaidToBeOne() throws {
        let error = #expect(throws: AgeRecipients.Problem.self) {
            try AgeRecipients.parse("AGE-SECRET-KEY-198HVLJFPA7CWM6M43S4KDGTTH9ZQFQLSC5KHPVKZA0RFPEAD7FHQV20065\n")
        }
        #expect(error?.line == 1)
        #expect(error?.description.contains("a private key") == true)
        #expect(error?.description.contains("198HVLJ") == false)
    }

    @Test("a file with no recipient is refused", arguments: ["", "\n\n", "# only a comment\n"])
    func refusesNoRecipient(text: String) {
        #expect(throws: AgeRecipients.Problem(line: 0, reason: "the file holds no recipient (age1… lines)")) {
            try AgeRecipients.parse(text)
        }
    }

    @Test func loadsAFileAndNamesItAndTheLineWhenBad() throws {
        let dir = try TemporaryDirectory(prefix: "recipients")
        defer { dir.remove() }
        let path = dir.appending("recipients.txt").path
        try Data("\(Self.key)\n\(Self.other)\n".utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o644)
        #expect(try AgeRecipients.load(path: path) == AgeRecipients(path: path, keys: [Self.key, Self.other]))

        try Data("\(Self.key)\nnot a key\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: BackupError.invalidConfiguration(
            variable: "BACKUP_AGE_RECIPIENTS_FILE", value: path,
            reason: "line 2: not an age X25519 recipient (age1…, as age-keygen prints it)")) {
            try AgeRecipients.load(path: path)
        }
        try Data("\(Self.key)\n".utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o666)
        #expect(throws: BackupError.invalidConfiguration(
            variable: "BACKUP_AGE_RECIPIENTS_FILE", value: path,
            reason: "the file is writable by everyone (mode 666): anyone could add their own key; chmod o-w it")) {
            try AgeRecipients.load(path: path)
        }
        let missing = dir.appending("missing.txt").path
        #expect(throws: BackupError.invalidConfiguration(
            variable: "BACKUP_AGE_RECIPIENTS_FILE", value: missing,
            reason: "cannot read the file (No such file or directory)")) {
            try AgeRecipients.load(path: missing)
        }
        #expect(throws: BackupError.invalidConfiguration(
            variable: "BACKUP_AGE_RECIPIENTS_FILE", value: dir.url.path, reason: "not a regular file")) {
            try AgeRecipients.load(path: dir.url.path)
        }
    }

    @Test func theConfigurationReadsBothFilesAndStopsOnABadOne() throws {
        let keys = try AgeKeys()
        let (config, warnings) = try Configuration.parse([
            "BACKUP_AGE_RECIPIENTS_FILE": keys.recipientsFile, "BACKUP_AGE_IDENTITY_FILE": keys.identityFile])
        #expect(warnings.isEmpty)
        #expect(config.ageRecipients?.keys == [keys.publicKey])
        #expect(config.ageIdentity == AgeIdentity(path: keys.identityFile, setting: "BACKUP_AGE_IDENTITY_FILE"))
        #expect(try Configuration.parse([:]).0.ageRecipients == nil)

        try Data("\n".utf8).write(to: URL(fileURLWithPath: keys.recipientsFile))
        #expect(throws: BackupError.invalidConfiguration(
            variable: "BACKUP_AGE_RECIPIENTS_FILE", value: keys.recipientsFile,
            reason: "the file holds no recipient (age1… lines)")) {
            try Configuration.parse(["BACKUP_AGE_RECIPIENTS_FILE": keys.recipientsFile])
        }
    }

    @Test("an identity file readable by others is refused, naming it", arguments: [0o644, 0o640, 0o604, 0o660])
    func identityMustBeOwnerOnly(mode: Int) throws {
        let keys = try AgeKeys()
        chmod(keys.identityFile, mode_t(mode))
        #expect(throws: BackupError.invalidConfiguration(
            variable: "--identity", value: keys.identityFile,
            reason: "the identity file's mode is \(String(mode, radix: 8)), it must be 600 (readable by its owner only); chmod 600 it")) {
            try AgeIdentity.check(path: keys.identityFile, setting: "--identity")
        }
        chmod(keys.identityFile, 0o600)
        #expect(try AgeIdentity.check(path: keys.identityFile).path == keys.identityFile)
    }

    @Test func theIdentitysPublicKeyComesFromAgeKeygen() throws {
        let keys = try AgeKeys()
        #expect(try keys.identity().publicKeys(using: keys.tool) == [keys.publicKey])
        let notAKey = keys.directory.appending("not-a-key.txt").path
        try Data("hello\n".utf8).write(to: URL(fileURLWithPath: notAKey))
        chmod(notAKey, 0o600)
        #expect(throws: BackupError.self) { try AgeIdentity.check(path: notAKey).publicKeys(using: keys.tool) }
    }
}
