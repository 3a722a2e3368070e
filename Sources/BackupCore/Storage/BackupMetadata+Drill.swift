import Foundation

/// The sidecar fields restore drills rely on: `tables` (written at backup time) and `last_drill` (written by a
/// drill). Both are left out when absent, so a sidecar without them reads and writes as before.
extension BackupMetadata {
    var drillFields: [(String, JSON)] {
        var fields: [(String, JSON)] = []
        if let tables {
            fields.append(("tables", .object(tables.sorted { $0.key < $1.key }.map { ($0.key, JSON.int($0.value)) })))
        }
        if let lastDrill { fields.append(("last_drill", lastDrill.json)) }
        return fields
    }

    mutating func parseDrillFields(_ root: JSON) throws {
        if let value = root["tables"], !value.isNull {
            guard case let .object(entries) = value else { throw SidecarError("field 'tables' is not an object") }
            var tables: [String: Int64] = [:]
            for (name, count) in entries {
                guard let rows = count.int64Value, rows >= 0 else {
                    throw SidecarError("field 'tables' has a count for \(name) that is not a whole number")
                }
                tables[name] = rows
            }
            self.tables = tables
        }
        if let value = root["last_drill"], !value.isNull {
            guard let record = DrillRecord.parse(value) else { throw SidecarError("field 'last_drill' is not a drill record") }
            lastDrill = record
        }
    }
}
