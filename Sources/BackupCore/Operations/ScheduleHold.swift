import Foundation

/// When a scheduler run first saw a scheduled backup dated in the future, kept in `$BACKUP_DIR/.schedule.json`.
/// The scheduler is a oneshot, so without this record a future-dated backup would hold it off until the clock
/// caught up (days, if the clock was stepped back days); with it, the hold lasts at most one interval.
struct ScheduleHold: Equatable {
    var filename: String
    var firstSeen: Date

    static let fileName = ".schedule.json"

    static func load(_ store: BackupStore) -> ScheduleHold? {
        guard let bytes = store.readSmallFile(fileName), let json = try? JSON.parse(bytes),
              let filename = json["filename"]?.stringValue,
              let firstSeen = json["first_seen"]?.stringValue.flatMap(Timestamp.parse)
        else { return nil }
        return ScheduleHold(filename: filename, firstSeen: firstSeen)
    }

    /// Written under the directory's lock, whose holder alone may use `.partial/`.
    func save(_ store: BackupStore) throws {
        let json = JSON.object([("filename", .string(filename)), ("first_seen", .string(Timestamp.iso8601(firstSeen)))])
        try store.writeSmallFile(Self.fileName, Array(json.serialized().utf8))
    }
}
