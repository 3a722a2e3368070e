import Foundation
import Testing

@testable import BackupCore

@Suite("restore --swap: names and markers of the databases beside the target")
struct SwapNamesTests {
    static let at = Date(timeIntervalSince1970: 0)

    @Test("the new and previous databases are named after the target and the UTC time")
    func names() {
        #expect(SwapNames.name(.new, target: "app", at: Self.at) == "app_new_19700101_000000")
        #expect(SwapNames.name(.before, target: "app", at: Self.at) == "app_before_19700101_000000")
    }

    @Test("a target too long for its previous database's name is refused; one that fits is not")
    func tooLong() {
        let fits = String(repeating: "a", count: SwapNames.longestTarget)
        #expect(SwapNames.problem(target: fits) == nil)
        #expect(SwapNames.name(.before, target: fits, at: Self.at).utf8.count == 63)
        #expect(SwapNames.problem(target: fits + "a")?.contains("too long for --swap") == true)
    }

    @Test("only the exact shape with a marker for that target is ours", arguments: [
        ("app_before_20261202_034400", true, "app", true), ("app_before_20261202_034400", false, "app", false),
        ("app_before_notes", true, "app", false), ("app_new_20261202_034400", true, "app", false),
        ("app_before_20261202_034400", true, "other", false), ("app", true, "app", false),
    ])
    func ours(database: String, marked: Bool, markerTarget: String, isOurs: Bool) {
        let comment = marked ? SwapMarker(target: markerTarget, backup: "b", at: Self.at, originalComment: nil).comment
                             : "{\"target\":\"app\"}"
        #expect(SwapMarker.isOurs(database, comment: comment, kind: .before, target: "app") == isOurs)
    }

    @Test("the marker keeps the target's original comment; other comments are not markers")
    func marker() {
        let marker = SwapMarker(target: "app", backup: "app_19700101_000000.sql.gz", at: Self.at, originalComment: "ours")
        #expect(SwapMarker.parse(marker.comment) == marker)
        #expect(SwapMarker.parse("just a comment") == nil)
        #expect(SwapMarker.parse(nil) == nil)
    }
}
