/// One object at the top of the remote directory, as `rclone lsjson` describes it.
struct RemoteObject: Sendable, Equatable {
    var name: String
    var size: Int64
    var md5: String?
    var sha256: String?

    /// Reads `lsjson`'s entries (one object for `--stat`, an array otherwise).
    static func parse(_ json: JSON) -> [RemoteObject] {
        let entries: [JSON]
        switch json {
        case let .array(items): entries = items
        case .object: entries = [json]
        default: entries = []
        }
        return entries.compactMap { entry in
            guard entry["IsDir"]?.boolValue != true, let name = entry["Name"]?.stringValue,
                  let size = entry["Size"]?.int64Value else { return nil }
            let hashes = entry["Hashes"]
            func hash(_ key: String) -> String? {
                hashes?[key]?.stringValue.flatMap { $0.isEmpty ? nil : $0.lowercased() }
            }
            return RemoteObject(name: name, size: size, md5: hash("md5"), sha256: hash("sha256"))
        }
    }
}
