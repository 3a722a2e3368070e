/// The sidecar's encryption fields. A plain backup's sidecar has none (the old tool's and every sidecar written
/// before encryption stay as they were); an encrypted one says how and to whom. The sidecar itself stays plaintext:
/// it holds no data, so listing and retention need no key.
extension BackupMetadata {
    /// The value the sidecar's `encryption` field takes: the only scheme there is.
    public static let encryptionScheme = "age"

    /// `"encrypted": true`, `"encryption": "age"` and `"recipients"`, for encrypted backups only.
    var encryptionFields: [(String, JSON)] {
        guard encrypted else { return [] }
        return [("encrypted", .bool(true)), ("encryption", .string(Self.encryptionScheme)),
                ("recipients", .array(recipients.map(JSON.string)))]
    }

    /// The `Content-Type` of a download: the codec's, or plain octets for an encrypted file (it reads as noise).
    public var contentType: String { encrypted ? "application/octet-stream" : compression.contentType }

    /// Reads `encrypted`, `encryption` and `recipients`; a name whose `.age` suffix the fields contradict is damage.
    static func parseEncryption(_ root: JSON, filename: String) throws -> (Bool, [String]) {
        var encrypted = false
        if let value = root["encrypted"], !value.isNull {
            guard let flag = value.boolValue else { throw SidecarError("field 'encrypted' is not a boolean") }
            encrypted = flag
        }
        if let value = root["encryption"], !value.isNull, encrypted {
            guard value.stringValue == encryptionScheme else {
                throw SidecarError("field 'encryption' is \(value.serialized(pretty: false)), expected \"age\"")
            }
        }
        var recipients: [String] = []
        if let value = root["recipients"], !value.isNull {
            guard case let .array(items) = value, items.allSatisfy({ $0.stringValue != nil }) else {
                throw SidecarError("field 'recipients' is not a list of strings")
            }
            recipients = items.compactMap(\.stringValue)
        }
        if BackupName.isEncrypted(filename) != encrypted {
            throw SidecarError(encrypted ? "field 'encrypted' is true but the file name does not end in .age"
                                         : "the file name ends in .age but field 'encrypted' is not true")
        }
        return (encrypted, recipients)
    }
}
