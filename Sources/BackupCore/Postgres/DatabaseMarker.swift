import Foundation

/// A mark pgbackup keeps on a database it made, as the database's `COMMENT ON DATABASE`: a JSON object whose
/// `pgbackup` field is the kind's tag. Only a database carrying the right marker is ever dropped or renamed as
/// pgbackup's; its name alone never decides.
public protocol DatabaseMarker: Codable, Equatable, Sendable {
    /// Tells this kind of marker apart from any other JSON a comment may hold.
    static var tag: String { get }
    var pgbackup: String { get }
}

extension DatabaseMarker {
    public var comment: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    /// The marker in `comment`, or nil when the comment is not one of this kind.
    public static func parse(_ comment: String?) -> Self? {
        guard let comment, let marker = try? JSONDecoder().decode(Self.self, from: Data(comment.utf8)),
              marker.pgbackup == tag else { return nil }
        return marker
    }
}
