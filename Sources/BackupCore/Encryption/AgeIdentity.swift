import Foundation

/// The age private key (identity) a restore or a full verify decrypts with: `BACKUP_AGE_IDENTITY_FILE`, or the
/// CLI's `--identity FILE`. Only its path is ever passed on (to `age -d -i`, `age-keygen -y`); the file must be
/// readable by its owner only (0600, or 0400), or it is refused, naming the file.
public struct AgeIdentity: Sendable, Equatable {
    public static let variable = "BACKUP_AGE_IDENTITY_FILE"

    /// The file, as an absolute path.
    public let path: String
    /// Where it was named (`BACKUP_AGE_IDENTITY_FILE` or `--identity`), for messages.
    public let setting: String

    /// Checks the file: a readable regular file that no one but its owner may read or write.
    public static func check(path given: String, setting: String = variable) throws -> AgeIdentity {
        let path = URL(fileURLWithPath: given).standardizedFileURL.path
        func refuse(_ reason: String) -> BackupError {
            .invalidConfiguration(variable: setting, value: path, reason: reason)
        }
        var info = stat()
        guard stat(path, &info) == 0 else { throw refuse("cannot read the file (\(Errno.message(errno)))") }
        guard info.st_mode & S_IFMT == S_IFREG else { throw refuse("not a regular file") }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw refuse("the identity file's mode is \(String(mode, radix: 8)), it must be 600 (readable by its "
                + "owner only); chmod 600 it")
        }
        guard access(path, R_OK) == 0 else { throw refuse("cannot read the file (\(Errno.message(errno)))") }
        return AgeIdentity(path: path, setting: setting)
    }

    /// The public keys (recipients) of the identities in the file, from `age-keygen -y`; a file it cannot read
    /// (not an age identity) is `invalidConfiguration`, with age-keygen's message.
    func publicKeys(using tool: AgeTool) throws -> Set<String> {
        let result = try BackupError.mapping { try ChildProcess.run(tool.publicKeysCommand(identityFile: path)) }
        guard result.status == 0 else {
            let message = result.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            throw BackupError.invalidConfiguration(
                variable: setting, value: path,
                reason: "not an age identity file (age-keygen -y: \(message.isEmpty ? ChildProcess.describe(result.status) : message))")
        }
        return Set(result.stdout.split(whereSeparator: \.isNewline).map(String.init))
    }
}
