import Foundation
import Testing

@testable import BackupCore

@Suite("Encrypted backups' names and sidecars")
struct EncryptedNamesAndSidecarsTests {
    static let date = Timestamp.parse("2026-01-29T14:30:22Z") ?? Date(timeIntervalSince1970: 0)

    @Test("an .age name is valid, keeps its codec and database, and its sidecar is <name>.json", arguments: [
        ("backup_db_20260129_143022.sql.gz.age", Codec.gzip, "db"),
        ("backup_my_db_20260129_143022_2.sql.zst.age", Codec.zstd, "my_db"),
    ])
    func encryptedNames(name: String, codec: Codec, database: String) throws {
        #expect(BackupName.isValid(name))
        #expect(try BackupName.validate(name) == name)
        #expect(BackupName.codec(of: name) == codec)
        #expect(BackupName.isEncrypted(name))
        #expect(BackupName.suffix(of: name) == codec.fileSuffix + ".age")
        #expect(BackupName.databasePart(name) == database)
        #expect(BackupName.isSidecar(name + ".json"))
        #expect(BackupDating.nameTimestamp(name) != nil)
    }

    @Test("names that only look encrypted are refused", arguments: [
        "backup_db_20260129_143022.age", "backup_db_20260129_143022.sql.age", "backup_db_20260129_143022.sql.gz.age.age",
        "backup_db_20260129_143022.sql.gz.AGE", "backup_db_20260129_143022.sql.gz.age.json", "backup_db_20260129_143022.sql.gz.ag",
    ])
    func notNames(name: String) {
        #expect(!BackupName.isValid(name))
    }

    @Test func plainNamesAreNotEncrypted() {
        #expect(!BackupName.isEncrypted("backup_db_20260129_143022.sql.gz"))
        #expect(BackupName.suffix(of: "backup_db_20260129_143022.sql.zst") == ".sql.zst")
    }

    @Test func makeAddsAgeAndNoTwoBackupsShareAStemWhateverTheirSuffix() {
        #expect(BackupName.make(database: "db", at: Self.date, codec: .zstd, encrypted: true, taken: { _ in false })
            == "backup_db_20260129_143022.sql.zst.age")
        #expect(BackupName.make(database: "db", at: Self.date, encrypted: true, taken: { $0 == "backup_db_20260129_143022.sql.gz" })
            == "backup_db_20260129_143022_2.sql.gz.age")
        #expect(BackupName.make(database: "db", at: Self.date, taken: { $0 == "backup_db_20260129_143022.sql.zst.age" })
            == "backup_db_20260129_143022_2.sql.gz")
    }

    static var encrypted: BackupMetadata {
        var metadata = BackupMetadata(
            filename: "backup_db_20260129_143022.sql.zst.age", createdAt: date, database: "db", sizeBytes: 1234,
            description: "", sha256: String(repeating: "cd", count: 32), uncompressedBytes: 5000, compression: .zstd)
        metadata.encrypted = true
        metadata.recipients = [AgeRecipientsTests.key, AgeRecipientsTests.other]
        return metadata
    }

    @Test func anEncryptedSidecarSaysSoAndRoundTrips() throws {
        let text = Self.encrypted.json.serialized(pretty: true)
        #expect(text.contains("\"encrypted\": true"))
        #expect(text.contains("\"encryption\": \"age\""))
        #expect(text.contains(AgeRecipientsTests.other))
        let parsed = try BackupMetadata.parse(Array(text.utf8))
        #expect(parsed == Self.encrypted)
        #expect(parsed.contentType == "application/octet-stream")
    }

    @Test func aPlainSidecarHasNoEncryptionFields() throws {
        let plain = BackupMetadata(filename: "backup_db_20260129_143022.sql.gz", createdAt: Self.date, database: "db",
                                   sizeBytes: 1, description: "")
        let text = plain.json.serialized()
        #expect(!text.contains("encrypt") && !text.contains("recipients"))
        #expect(plain.contentType == "application/gzip")
        // `"encrypted": false` reads as plain too.
        let withFalse = text.replacingOccurrences(of: "\"compression\"", with: "\"encrypted\":false,\"compression\"")
        #expect(try BackupMetadata.parse(Array(withFalse.utf8)) == plain)
    }

    @Test("a sidecar whose encryption fields contradict the name is damage", arguments: [
        ("\"encrypted\":true", "backup_db_20260129_143022.sql.gz", "field 'encrypted' is true but the file name does not end in .age"),
        ("\"encrypted\":false", "backup_db_20260129_143022.sql.gz.age", "the file name ends in .age but field 'encrypted' is not true"),
        ("\"encrypted\":true,\"encryption\":\"gpg\"", "backup_db_20260129_143022.sql.gz.age", "field 'encryption' is \"gpg\", expected \"age\""),
        ("\"encrypted\":true,\"recipients\":[1]", "backup_db_20260129_143022.sql.gz.age", "field 'recipients' is not a list of strings"),
        ("\"encrypted\":\"yes\"", "backup_db_20260129_143022.sql.gz.age", "field 'encrypted' is not a boolean"),
    ])
    func contradictions(fields: String, name: String, reason: String) {
        let text = "{\"filename\":\"\(name)\",\"created_at\":\"2026-01-29T14:30:22Z\",\"size_bytes\":1,\(fields)}"
        let error = #expect(throws: SidecarError.self) { try BackupMetadata.parse(Array(text.utf8)) }
        #expect(error?.description == reason)
    }
}
