import Foundation

/// The names of the databases a `restore --swap` makes beside its target: `<target>_new_YYYYMMDD_HHMMSS` (being
/// loaded and checked) and `<target>_before_YYYYMMDD_HHMMSS` (the target as it was before the swap; UTC).
/// Only a name of exactly that shape that also carries pgbackup's marker (`SwapMarker`) is ever dropped, so a
/// database that merely looks similar is never touched.
public enum SwapNames {
    public enum Kind: String, Sendable { case new, before }

    /// The longest target a swap accepts: the name plus `_before_` and the 15-character stamp fit in 63 bytes.
    public static let longestTarget = 63 - "_before_".utf8.count - 15

    public static func name(_ kind: Kind, target: String, at date: Date) -> String {
        "\(target)_\(kind.rawValue)_\(Timestamp.compact(date))"
    }

    /// Why `target` cannot be restored with `--swap`, or nil; checked before anything happens.
    public static func problem(target: String) -> String? {
        guard target.utf8.count <= longestTarget else {
            return "the database name '\(target)' is too long for --swap: at most \(longestTarget) bytes leave room "
                + "for '_before_YYYYMMDD_HHMMSS' (database names are at most 63 bytes); restore without --swap"
        }
        return nil
    }

    /// Whether `database` has exactly the shape of a `kind` database of `target`.
    public static func matches(_ database: String, kind: Kind, target: String) -> Bool {
        ScratchDatabase.isScratch(database, prefix: "\(target)_\(kind.rawValue)")
    }
}

/// The `COMMENT ON DATABASE` that marks a database made by `restore --swap`: which target and backup it belongs
/// to, when, and the target's own original comment (given back to the database that carries the target's name).
public struct SwapMarker: DatabaseMarker {
    public static let tag = "pgbackup-swap"

    public var pgbackup: String = SwapMarker.tag
    public var target: String
    public var backup: String
    public var at: String
    public var originalComment: String?

    public init(target: String, backup: String, at date: Date, originalComment: String?) {
        self.target = target
        self.backup = backup
        self.at = Timestamp.compact(date)
        self.originalComment = originalComment
    }

    enum CodingKeys: String, CodingKey {
        case pgbackup, target, backup, at
        case originalComment = "original_comment"
    }

    /// Whether `database`, carrying `comment`, is one of pgbackup's `kind` databases of `target`: both the exact
    /// name shape and a marker naming that target, and never the target itself.
    public static func isOurs(_ database: String, comment: String?, kind: SwapNames.Kind, target: String) -> Bool {
        guard database != target, SwapNames.matches(database, kind: kind, target: target) else { return false }
        return parse(comment)?.target == target
    }
}
