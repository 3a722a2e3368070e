import BackupCore
import Foundation

/// A JSON request body checked against the fields a route accepts: unknown fields, wrong types, malformed JSON
/// and non-JSON content types are refused before anything runs.
struct RequestBody {
    enum FieldType { case string, bool }
    let object: JSON

    init(_ request: APIRequest, allowed: [String: FieldType]) throws {
        let bytes = request.body ?? []
        if bytes.allSatisfy({ [0x20, 0x09, 0x0a, 0x0d].contains($0) }) {
            object = .object([])
            return
        }
        let mediaType = request.contentType?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        guard mediaType == "application/json" else {
            throw RequestError(415, "unsupported_media_type", "send the body as Content-Type: application/json")
        }
        let parsed: JSON
        do { parsed = try JSON.parse(bytes) } catch {
            throw RequestError(400, "invalid_json", "the body is not valid JSON: \(error)")
        }
        guard case let .object(fields) = parsed else {
            throw RequestError(400, "invalid_json", "the body must be a JSON object")
        }
        for (key, value) in fields {
            guard let type = allowed[key] else {
                let known = allowed.keys.sorted().joined(separator: ", ")
                throw RequestError(400, "unknown_field", "unknown field '\(key.prefix(64))'" + (known.isEmpty ? "; this request takes no fields" : "; allowed: \(known)"))
            }
            switch (type, value) {
            case (.string, .string), (.bool, .bool), (_, .null): continue
            default:
                throw RequestError(400, "invalid_field_type",
                                   "field '\(key)' must be a \(type == .string ? "string" : "boolean"), not \(value.typeName)")
            }
        }
        object = parsed
    }

    func string(_ key: String) -> String? { object[key]?.stringValue }
    func bool(_ key: String) -> Bool? { object[key]?.boolValue }
}
