import Foundation

extension Configuration {
    /// The merged values, read trimmed, with blank meaning unset.
    struct Settings {
        let values: [String: String]

        func value(_ key: String) -> String? {
            guard let raw = values[key] else { return nil }
            let trimmed = raw.trimmingCharacters(in: .whitespaces)
            return trimmed.isEmpty ? nil : trimmed
        }

        func positive(_ key: String, max: Int = Int(Int32.max)) throws -> Int? {
            guard let text = value(key) else { return nil }
            guard let number = Int(text) else {
                throw BackupError.invalidConfiguration(variable: key, value: text, reason: "not a whole number")
            }
            guard number >= 1, number <= max else {
                throw BackupError.invalidConfiguration(
                    variable: key, value: text, reason: "must be between 1 and \(max)")
            }
            return number
        }
    }
}
