/// The age programs pgbackup runs, as values: `age` to encrypt and decrypt, `age-keygen -y` to read an
/// identity's public keys. Key files are passed by path; their contents never appear in an argument.
struct AgeTool: Sendable, Equatable {
    /// The environment the programs get: PATH (to find them) and nothing else, so no secret of pgbackup's own
    /// reaches them.
    let environment: [String: String]

    init(environment: [String: String]) {
        self.environment = environment["PATH"].map { ["PATH": $0] } ?? [:]
    }

    /// Encrypts stdin to every recipient in the file (`age -R`, which reads it as the configuration did).
    func encryptCommand(recipientsFile: String) -> Command {
        Command(executable: "age", arguments: ["-e", "-R", recipientsFile], environment: environment)
    }

    /// Decrypts stdin with the identity (private key) in the file.
    func decryptCommand(identityFile: String) -> Command {
        Command(executable: "age", arguments: ["-d", "-i", identityFile], environment: environment)
    }

    /// Prints the public key (recipient) of each identity in the file, one a line.
    func publicKeysCommand(identityFile: String) -> Command {
        Command(executable: "age-keygen", arguments: ["-y", identityFile], environment: environment)
    }
}
