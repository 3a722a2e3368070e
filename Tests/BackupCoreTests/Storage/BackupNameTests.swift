import Foundation
import Testing

@testable import BackupCore

@Suite("BackupName")
struct BackupNameTests {
    static let expectedShape = "expected backup_<database>_<YYYYMMDD>_<HHMMSS>.sql.gz, .sql.zst, .sql.gz.age or .sql.zst.age"

    static let hostileNames: [String] = [
        // traversal
        "..",
        ".",
        "../x",
        "../backup_db_20260101_120000.sql.gz",
        "backup_../../etc_20260101_120000.sql.gz",
        "backup_db_20260101_120000.sql.gz/../../etc/passwd",
        "backup_db..x_20260101_120000.sql.gz",
        "backup_...._20260101_120000.sql.gz",
        "backup_db/x_20260101_120000.sql.gz",
        "backup_db\\x_20260101_120000.sql.gz",
        // percent-encoded and double-encoded
        "%2e%2e%2fbackup_db_20260101_120000.sql.gz",
        "backup_%2e%2e%2fetc_20260101_120000.sql.gz",
        "backup_db%2f_20260101_120000.sql.gz",
        "%252e%252e%252fetc%252fpasswd",
        "backup_%252e%252e_20260101_120000.sql.gz",
        "backup_db_20260101_120000.sql.gz%00",
        // control characters
        "backup_db\0_20260101_120000.sql.gz",
        "backup_db_20260101_120000.sql.gz\0.txt",
        "backup_db\r_20260101_120000.sql.gz",
        "backup_db\n_20260101_120000.sql.gz",
        "backup_db_20260101_120000.sql.gz\n",
        "backup_db_20260101_120000.sql.gz\r\n",
        "backup_db\t_20260101_120000.sql.gz",
        // absolute paths
        "/backup_db_20260101_120000.sql.gz",
        "/etc/passwd",
        "/var/lib/pgbackup/backups/backup_db_20260101_120000.sql.gz",
        // options
        "-",
        "--help",
        "-backup_db_20260101_120000.sql.gz",
        // unicode look-alikes
        "backup_db_\u{FF12}\u{FF10}\u{FF12}\u{FF16}0101_120000.sql.gz",
        "b\u{0430}ckup_db_20260101_120000.sql.gz",
        "backup_db\u{2215}x_20260101_120000.sql.gz",
        "backup_db\u{FF0F}x_20260101_120000.sql.gz",
        "backup_..\u{2215}etc_20260101_120000.sql.gz",
        "backup_d\u{00E9}_20260101_120000.sql.gz",
        "backup_db_20260101_120000\u{0301}.sql.gz",
        "backup_db_20260101_120000.sql.gz\u{200B}",
        "backup_db_\u{0662}\u{0660}\u{0662}\u{0666}0101_120000.sql.gz",
        "backup_db_20260101_120000\u{FF0E}sql.gz",
        // whitespace and shell
        "backup_db_20260101_120000.sql.gz ",
        " backup_db_20260101_120000.sql.gz",
        "backup_d b_20260101_120000.sql.gz",
        "backup_$(id)_20260101_120000.sql.gz",
        "backup_db;rm -rf /_20260101_120000.sql.gz",
        "backup_db_20260101_120000.sql.gz;ls",
        // wrong suffix
        "backup_db_20260101_120000.sql",
        "backup_db_20260101_120000.sql.gz.json",
        "backup_db_20260101_120000.gz",
        "backup_db_20260101_120000.SQL.GZ",
        "backup_db_20260101_120000.sq1.gz",
        "backup_db_20260101_120000.sql.gz~",
        "backup_db_20260101_120000.sql.gz.sql.gz",
        // wrong zstd suffix
        "backup_db_20260101_120000.sql.zst.json",
        "backup_db_20260101_120000.zst",
        "backup_db_20260101_120000.sql.zstd",
        "backup_db_20260101_120000.sql.zs",
        "backup_db_20260101_120000.SQL.ZST",
        "backup_db_20260101_120000.sql.gz.zst",
        "backup_db_20260101_120000.sql.zst.gz",
        "backup_db_20260101_120000.sql.zst~",
        "backup_db_20260101_120000.sql.zst ",
        "backup_db_20260101_120000.sql.zst\0",
        "../backup_db_20260101_120000.sql.zst",
        "backup_db_20260101_120000_.sql.zst",
        "backup_db_120000.sql.zst",
        "backup_.sql.zst",
        ".sql.zst",
        // missing or malformed parts
        "Backup_db_20260101_120000.sql.gz",
        "backup_20260101_120000.sql.gz",
        "backup__20260101_120000.sql.gz",
        "backup_db_120000.sql.gz",
        "backup_db_20260101.sql.gz",
        "backup_db_2026011_120000.sql.gz",
        "backup_db_202601011_120000.sql.gz",
        "backup_db_20260101_12000.sql.gz",
        "backup_db_20260101_1200000.sql.gz",
        "backup_db_20260101_120000_.sql.gz",
        "backup_db_20260101_120000_x.sql.gz",
        "backup_db_20260101-120000.sql.gz",
        "backup_.sql.gz",
        ".sql.gz",
        "backup_",
        // too long and empty
        "backup_" + String(repeating: "a", count: 171) + "_20260101_120000.sql.gz",
        "backup_" + String(repeating: "a", count: 5000) + "_20260101_120000.sql.gz",
        "backup_" + String(repeating: "a", count: 170) + "_20260101_120000.sql.zst",
        "",
    ]

    static let validNames: [String] = [
        "backup_unicorn_db_20260129_143022.sql.gz",
        "backup_postgres_20260101_000000.sql.gz",
        "backup_db_20260101_120000_2.sql.gz",
        "backup_db_20260101_120000_17.sql.gz",
        "backup_my.db-name_20260101_120000.sql.gz",
        "backup_db2_20260101_120000.sql.gz",
        "backup_db_2024_20260101_120000.sql.gz",
        "backup_db_123456_20260101_120000.sql.gz",
        "backup_db_20250101_20260101_120000.sql.gz",
        "backup_db_123456_20260101_120000_3.sql.gz",
        "backup_a_20260101_235959.sql.gz",
        "backup_A-Z.0_9_20260101_235959.sql.gz",
        "backup___20260101_120000.sql.gz",
        "backup_" + String(repeating: "a", count: 170) + "_20260101_120000.sql.gz",
        "backup_unicorn_db_20260129_143022.sql.zst",
        "backup_db_20260101_120000_2.sql.zst",
        "backup_my.db-name_20260101_120000.sql.zst",
        "backup_db_123456_20260101_120000_3.sql.zst",
        "backup_" + String(repeating: "a", count: 169) + "_20260101_120000.sql.zst",
    ]

    @Test("hostile names are rejected", arguments: hostileNames)
    func hostileNameRejected(_ name: String) {
        #expect(!BackupName.isValid(name))
        #expect(throws: BackupError.self) { try BackupName.validate(name) }
    }

    @Test("hostile table has at least 40 entries")
    func hostileTableSize() {
        #expect(Self.hostileNames.count >= 40)
    }

    @Test("valid names are accepted and returned unchanged", arguments: validNames)
    func validNameAccepted(_ name: String) throws {
        #expect(BackupName.isValid(name))
        #expect(try BackupName.validate(name) == name)
    }

    @Test("the error names the input and the expected shape")
    func errorText() {
        #expect(throws: BackupError.invalidInput("invalid backup name '../x': \(Self.expectedShape)")) {
            try BackupName.validate("../x")
        }
    }

    @Test("control and non-ASCII characters are shown as '?' in the error")
    func errorTextMasksUnprintable() {
        #expect(throws: BackupError.invalidInput("invalid backup name 'backup_db?_x??': \(Self.expectedShape)")) {
            try BackupName.validate("backup_db\0_x\n\u{2215}")
        }
    }

    @Test("the error shows at most 80 characters of a long input")
    func errorTextIsShort() throws {
        let name = String(repeating: "x", count: 1000)
        do {
            _ = try BackupName.validate(name)
            Issue.record("a 1000-character name was accepted")
        } catch let error as BackupError {
            #expect(error.description == "invalid backup name '\(String(repeating: "x", count: 80))': \(Self.expectedShape)")
        }
    }

    // MARK: make

    static let sampleDate = Date(timeIntervalSince1970: 1_769_697_022.75)  // 2026-01-29 14:30:22.75 UTC

    @Test("make formats the time in UTC")
    func makeUsesUTC() {
        let name = BackupName.make(database: "unicorn_db", at: Self.sampleDate, taken: { _ in false })
        #expect(name == "backup_unicorn_db_20260129_143022.sql.gz")
        #expect(BackupName.isValid(name))
    }

    @Test("make handles midnight and the first second of a year")
    func makeBoundaries() {
        #expect(BackupName.make(database: "db", at: Date(timeIntervalSince1970: 1_767_225_600), taken: { _ in false })
            == "backup_db_20260101_000000.sql.gz")
        #expect(BackupName.make(database: "db", at: Date(timeIntervalSince1970: 1_767_225_599), taken: { _ in false })
            == "backup_db_20251231_235959.sql.gz")
    }

    @Test("make adds _2 then _3 when the second is taken")
    func makeCollisions() {
        var taken: Set<String> = []
        let first = BackupName.make(database: "db", at: Self.sampleDate, taken: { taken.contains($0) })
        taken.insert(first)
        let second = BackupName.make(database: "db", at: Self.sampleDate, taken: { taken.contains($0) })
        taken.insert(second)
        let third = BackupName.make(database: "db", at: Self.sampleDate, taken: { taken.contains($0) })
        #expect(first == "backup_db_20260129_143022.sql.gz")
        #expect(second == "backup_db_20260129_143022_2.sql.gz")
        #expect(third == "backup_db_20260129_143022_3.sql.gz")
        #expect([first, second, third].allSatisfy(BackupName.isValid))
    }

    @Test(
        "make maps unsafe database characters",
        arguments: [
            ("my db/x", "my_db_x"),
            ("caf\u{00E9}", "caf_"),
            ("../etc", "___etc"),
            ("a..b", "a__b"),
            ("db$1", "db_1"),
            ("", "db"),
            ("\u{0430}dmin", "_dmin"),
            ("x\0y\nz", "x_y_z"),
            ("ok.name-1_2", "ok.name-1_2"),
        ])
    func makeMapsUnsafeCharacters(database: String, expected: String) {
        #expect(BackupName.fileSafe(database: database) == expected)
        let name = BackupName.make(database: database, at: Self.sampleDate, taken: { _ in false })
        #expect(name == "backup_\(expected)_20260129_143022.sql.gz")
        #expect(BackupName.isValid(name))
    }

    @Test("a generated name always passes the validator, whatever the database name")
    func makeAlwaysValid() {
        let databases = ["...", "....", ".", "-", "--help", "a.", ".a", "x_20260101_120000", "123",
                         String(repeating: "d", count: 63), String(repeating: "\u{00E9}", count: 63), "%2e%2e", "a b c"]
        for database in databases {
            let name = BackupName.make(database: database, at: Self.sampleDate, taken: { _ in false })
            #expect(BackupName.isValid(name), "database \(database) gave \(name)")
        }
    }

    // MARK: codecs

    @Test(
        "a name's suffix gives its codec, whether or not the rest of the name is valid",
        arguments: [
            ("backup_db_20260101_120000.sql.gz", Codec.gzip as Codec?),
            ("backup_db_20260101_120000_2.sql.gz", .gzip),
            ("backup_db_20260101_120000.sql.zst", .zstd),
            ("backup_db_20260101_120000_2.sql.zst", .zstd),
            ("x.sql.zst", .zstd),
            (".sql.gz", .gzip),
            ("backup_db_20260101_120000.sql", nil),
            ("backup_db_20260101_120000.sql.gz.json", nil),
            ("backup_db_20260101_120000.sql.zst.json", nil),
            ("backup_db_20260101_120000.sql.zstd", nil),
            ("backup_db_20260101_120000.SQL.ZST", nil),
            ("", nil),
        ])
    func codecFromSuffix(name: String, codec: Codec?) {
        #expect(BackupName.codec(of: name) == codec)
    }

    @Test("make names a backup with its codec's suffix, and the name gives the codec back", arguments: Codec.allCases)
    func makeWithCodec(codec: Codec) {
        var taken: Set<String> = []
        let first = BackupName.make(database: "unicorn_db", at: Self.sampleDate, codec: codec, taken: { taken.contains($0) })
        taken.insert(first)
        let second = BackupName.make(database: "unicorn_db", at: Self.sampleDate, codec: codec, taken: { taken.contains($0) })
        #expect(first == "backup_unicorn_db_20260129_143022" + codec.fileSuffix)
        #expect(second == "backup_unicorn_db_20260129_143022_2" + codec.fileSuffix)
        for name in [first, second] {
            #expect(BackupName.isValid(name))
            #expect(BackupName.codec(of: name) == codec)
            #expect(BackupName.databasePart(name) == "unicorn_db")
            #expect(BackupDating.nameTimestamp(name) == Date(timeIntervalSince1970: 1_769_697_022))
        }
    }

    @Test("a stem taken with the other codec's suffix is taken too: no two backups share a stem",
          arguments: Codec.allCases)
    func makeCollidesAcrossCodecs(codec: Codec) {
        let other = Codec.allCases.first { $0 != codec } ?? codec
        let taken: Set<String> = ["backup_db_20260129_143022" + other.fileSuffix, "backup_db_20260129_143022_2" + codec.fileSuffix]
        let name = BackupName.make(database: "db", at: Self.sampleDate, codec: codec, taken: { taken.contains($0) })
        #expect(name == "backup_db_20260129_143022_3" + codec.fileSuffix)
    }

    @Test("make without a codec is gzip, the old tool's format")
    func makeDefaultsToGzip() {
        #expect(BackupName.make(database: "db", at: Self.sampleDate, taken: { _ in false }) == "backup_db_20260129_143022.sql.gz")
    }

    @Test("the database part is read the same way for both suffixes", arguments: [
        ("backup_db_2024_20260101_120000.sql.zst", "db_2024"),
        ("backup_db_20260101_120000_17.sql.zst", "db"),
        ("backup_db_123456_20260101_120000.sql.gz", "db_123456"),
        ("backup_db_123456_20260101_120000_3.sql.zst", "db_123456"),
    ])
    func databasePartBothSuffixes(name: String, database: String) {
        #expect(BackupName.databasePart(name) == database)
    }

    @Test(
        "sidecar names are recognised for both suffixes",
        arguments: [
            ("backup_db_20260101_120000.sql.gz.json", true), ("backup_db_20260101_120000.sql.zst.json", true),
            ("backup_db_20260101_120000.sql.gz", false), ("backup_db_20260101_120000.sql.zst", false),
            ("backup_db_20260101_120000.sql.json", false), (".state.json", false), ("x.sql.zstd.json", false),
        ])
    func sidecarNames(name: String, isSidecar: Bool) {
        #expect(BackupName.isSidecar(name) == isSidecar)
    }
}
