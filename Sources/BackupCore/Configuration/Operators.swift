/// Who may change anything (create, restore, delete, cleanup, verify) or download through the API, from
/// `PGBACKUP_OPERATORS`. Everyone else nginx authenticated may only look (GET/HEAD of list, status, metadata,
/// jobs). nginx enforces the same split with its own files; this is the second check, so a misconfigured nginx
/// cannot open restore to a reader.
public enum Operators: Sendable, Equatable {
    /// Unset: nobody. Failing closed is the point of a second check; an install that relied on one htpasswd
    /// file keeps working with `*` or its user names (the responder warns at startup while it is unset).
    case unset
    /// `*`: every user nginx authenticated (the behaviour before roles existed).
    case anyAuthenticated
    /// Comma-separated user names.
    case users(Set<String>)

    /// Parses the variable's value: `*`, or user names separated by commas (blanks around them ignored).
    public static func parse(_ text: String?) throws -> Operators {
        guard let text, !text.trimmingCharacters(in: .whitespaces).isEmpty else { return .unset }
        let names = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        if names == ["*"] { return .anyAuthenticated }
        guard !names.contains(where: \.isEmpty), !names.contains("*"),
              names.allSatisfy({ !$0.contains(":") && !$0.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7f } })
        else {
            throw BackupError.invalidConfiguration(
                variable: "PGBACKUP_OPERATORS", value: text,
                reason: "expected * or user names separated by commas (no ':' or control characters)")
        }
        return .users(Set(names))
    }

    /// Whether `user` (nginx's `REMOTE_USER`; nil when nobody was authenticated) is an operator.
    public func permits(_ user: String?) -> Bool {
        guard let user, !user.isEmpty else { return false }
        switch self {
        case .unset: return false
        case .anyAuthenticated: return true
        case .users(let names): return names.contains(user)
        }
    }
}
