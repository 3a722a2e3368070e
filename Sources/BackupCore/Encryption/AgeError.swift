/// Failures of the age stages. A create reports them as `encryptionFailed`; verify and restore as the backup's
/// `verificationFailed` (a damaged or foreign file), naming it.
public enum AgeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `age -e` failed: how it ended and its message.
    case encryptFailed(String)
    /// `age -d` failed (a damaged payload, or no identity that matches): how it ended and its message.
    case decryptFailed(String)
    /// The file does not start with a well-formed age header (checked without the key).
    case badHeader(String)

    public var description: String {
        switch self {
        case let .encryptFailed(message): "age (encrypting) \(message)"
        case let .decryptFailed(message): "age (decrypting) \(message)"
        case let .badHeader(reason): "not a well-formed age file: \(reason)"
        }
    }

    /// "exited with status 1: age: error: …", for `ChildProcessStage`'s `failure`.
    static func message(_ ended: String, _ stderr: String) -> String {
        stderr.isEmpty ? ended : "\(ended): \(stderr)"
    }
}
