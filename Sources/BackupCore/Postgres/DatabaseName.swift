/// PostgreSQL database names that pgbackup accepts from outside: plain identifiers only, so a name can never
/// be read as options or as a connection string.
public enum DatabaseName {
    /// Why `name` is refused, or nil when it is acceptable.
    public static func problem(_ name: String) -> String? {
        let scalars = Array(name.unicodeScalars)
        let allowed = scalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "_-$.".unicodeScalars.contains($0))
        }
        guard !scalars.isEmpty, scalars.count <= 63, scalars[0] != "-", allowed else {
            return "a database name may hold only letters, digits, '_', '-', '$' and '.' (at most 63, not starting with '-')"
        }
        return nil
    }
}
