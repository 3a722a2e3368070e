import Testing

@testable import BackupCore

@Suite("Redaction")
struct RedactionTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var password: String
        var message: String
        var expected: String
        var testDescription: String { "\(password): \(message)" }
    }

    @Test("a short password inside other words is left alone, so the message stays true", arguments: [
        Case(password: "5", message: "connection to server on socket \"/tmp/.s.PGSQL.55498\" failed: port 55498",
             expected: "connection to server on socket \"/tmp/.s.PGSQL.55498\" failed: port 55498"),
        Case(password: "a", message: "FATAL:  database \"analytics\" does not exist",
             expected: "FATAL:  database \"analytics\" does not exist"),
        Case(password: "on", message: "connection to server on socket failed", expected: "connection to server ******** socket failed"),
        Case(password: "db", message: "pg_dump: error: database db_main: timeout", expected: "pg_dump: error: database db_main: timeout"),
        Case(password: "x1", message: "role x1 and role x12", expected: "role ******** and role x12"),
        Case(password: "é", message: "café é", expected: "café ********"),
    ])
    func wholeWordsOnly(_ test: Case) {
        #expect(Redaction.redact(test.message, password: test.password) == test.expected)
    }

    @Test("the password as a whole word, in key=value pairs and in URIs is masked", arguments: [
        Case(password: "5", message: "password 5 rejected", expected: "password ******** rejected"),
        Case(password: "5", message: "host=h password=5 port=55498", expected: "host=h password=******** port=55498"),
        Case(password: "ab", message: "dbname=x password='ab' sslmode=require",
             expected: "dbname=x password=******** sslmode=require"),
        Case(password: "ab", message: "PGPASSWORD=ab pg_dump", expected: "PGPASSWORD=******** pg_dump"),
        Case(password: "p:1", message: "postgres://u:p%3A1@localhost:5432/db", expected: "postgres://u:********@localhost:5432/db"),
        Case(password: "xyz", message: "postgresql://admin:xyz@h/db and xyz again", expected: "postgresql://admin:********@h/db and ******** again"),
        Case(password: "!", message: "bad token ! here", expected: "bad token ******** here"),
        Case(password: "a b", message: "password = \"a b\"; a b", expected: "password = ********; ********"),
    ])
    func masked(_ test: Case) {
        #expect(Redaction.redact(test.message, password: test.password) == test.expected)
    }

    @Test("no mask lets the password's length or position be read", arguments: ["5", "55", "555"])
    func maskHidesLength(_ password: String) {
        let message = "password \(password) and 155498 port"
        let redacted = Redaction.redact(message, password: password)
        #expect(redacted == "password ******** and 155498 port")
        #expect(!redacted.split(separator: " ").contains(Substring(password)))
    }

    @Test func noPasswordChangesNothing() {
        #expect(Redaction.redact("password=abc", password: nil) == "password=abc")
        #expect(Redaction.redact("password=abc", password: "") == "password=abc")
    }

    @Test func postgresToolsRedactsTheConfiguredPassword() {
        let tools = PostgresTools(connection: PostgresConnection(host: "h", port: 55498, database: "d", user: "u",
                                                                 password: "5"), environment: [:])
        #expect(tools.redact("port 55498: password 5 wrong") == "port 55498: password ******** wrong")
    }
}
