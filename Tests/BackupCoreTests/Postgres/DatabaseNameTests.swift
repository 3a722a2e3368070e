import Testing

@testable import BackupCore

@Suite("DatabaseName")
struct DatabaseNameTests {
    static let reason =
        "a database name may hold only letters, digits, '_', '-', '$' and '.' (at most 63, not starting with '-')"

    @Test(
        "plain identifiers are accepted",
        arguments: ["postgres", "unicorn_db", "db-1", "a$b", "x.y", "DB2", "_private", String(repeating: "a", count: 63)])
    func accepted(_ name: String) {
        #expect(DatabaseName.problem(name) == nil)
    }

    @Test(
        "anything that could be read as an option, a connection string or a path is refused",
        arguments: [
            "", "-h", "--help", "-", "a b", "a;b", "a'b", "a\"b", "a/b", "../x", "host=evil", "postgres://h/db",
            "a\0b", "a\nb", "caf\u{00E9}", "\u{0430}dmin", "db\t", String(repeating: "a", count: 64), "a=b", "x|y",
        ])
    func refused(_ name: String) {
        #expect(DatabaseName.problem(name) == Self.reason)
    }
}
