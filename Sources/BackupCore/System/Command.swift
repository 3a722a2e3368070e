/// A program to run: a value, so what pgbackup runs can be inspected and tested. Arguments never pass through a
/// shell and never carry a password.
public struct Command: Sendable, Equatable {
    public var executable: String
    public var arguments: [String]
    public var environment: [String: String]

    public init(executable: String, arguments: [String], environment: [String: String]) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
    }
}
