import Foundation
import Testing

@testable import BackupCore

@Suite("Restore drills: comparison, schedule, names and records")
struct DrillTests {
    static let now = Date(timeIntervalSince1970: 1_796_000_000)

    @Test("the scheduler drills when there was none, or the last is an interval old; never with 0", arguments: [
        (168, nil as Double?, true), (168, 3600.0, false), (168, 167 * 3600.0, false), (168, 168 * 3600.0, true),
        (0, nil, false), (0, 1e9, false), (1, -60.0, true),
    ])
    func schedule(hours: Int, age: Double?, due: Bool) {
        let last = age.map { Self.now.addingTimeInterval(-$0) }
        #expect(DrillSchedule.isDue(intervalHours: hours, lastDrill: last, now: Self.now) == due)
    }

    @Test("mismatches: each differing or missing table; large objects found where none were recorded")
    func mismatches() {
        let expected: [String: Int64] = ["public.a": 3, "public.b": 0, "public.gone": 1]
        let found: [String: Int64] = ["public.a": 2, "public.b": 0, "public.extra": 9, "pg_largeobject": 1]
        #expect(DrillResult.mismatches(expected: expected, found: found) == [
            DrillRecord.Mismatch(table: "pg_largeobject", expected: 0, found: 1),
            DrillRecord.Mismatch(table: "public.a", expected: 3, found: 2),
            DrillRecord.Mismatch(table: "public.gone", expected: 1, found: nil),
        ])
        #expect(DrillResult.mismatches(expected: nil, found: found).isEmpty, "nothing recorded: nothing to compare")
        #expect(DrillResult.mismatches(expected: ["public.a": 2], found: ["public.a": 2, "pg_largeobject": 0]).isEmpty)
    }

    @Test("scratch database names: only the exact shape is a leftover", arguments: [
        ("pgbackup_drill_20261202_034400", true), ("pgbackup_drill_notes", false), ("pgbackup_drill_20261202_0344", false),
        ("pgbackup_drill_2026120x_034400", false), ("other_20261202_034400", false), ("pgbackup_drill", false),
    ])
    func leftovers(name: String, isScratch: Bool) {
        #expect(ScratchDatabase.isScratch(name, prefix: "pgbackup_drill") == isScratch)
    }

    /// Only the shape and a drill's marker naming that very database make a leftover a drill may drop.
    @Test("a leftover is a drill's only with its marker", arguments: [
        ("pgbackup_drill_20261202_034400", DrillMarker(scratch: "pgbackup_drill_20261202_034400", backup: "b").comment, true),
        ("pgbackup_drill_20261202_034400", nil, false),
        ("pgbackup_drill_20261202_034400", "precious data, do not drop", false),
        ("pgbackup_drill_20261202_034400", DrillMarker(scratch: "pgbackup_drill_20261202_034401", backup: "b").comment, false),
        ("pgbackup_drill_20261202_034400",
         SwapMarker(target: "pgbackup_drill", backup: "b", at: Date(timeIntervalSince1970: 0), originalComment: nil).comment, false),
        ("pgbackup_drill_notes", DrillMarker(scratch: "pgbackup_drill_notes", backup: "b").comment, false),
    ])
    func leftoversNeedTheMarker(name: String, comment: String?, ours: Bool) {
        #expect(ScratchDatabase.isOurs(name, comment: comment, prefix: "pgbackup_drill") == ours)
    }

    @Test func theDrillMarkerRoundTrips() {
        let marker = DrillMarker(scratch: "p_19700101_000000", backup: "backup_db_19700101_000000.sql.gz")
        #expect(marker.comment == #"{"backup":"backup_db_19700101_000000.sql.gz","pgbackup":"pgbackup-drill","scratch":"p_19700101_000000"}"#)
        #expect(DrillMarker.parse(marker.comment) == marker)
        #expect(DrillMarker.parse(#"{"pgbackup":"pgbackup-swap","scratch":"x","backup":"y"}"#) == nil)
        #expect(DrillMarker.parse("not json") == nil)
    }

    @Test("a scratch database is named after the prefix and the UTC time")
    func scratchName() {
        #expect(ScratchDatabase.name(prefix: "p", at: Date(timeIntervalSince1970: 0)) == "p_19700101_000000")
    }

    @Test("the sidecar keeps tables and last_drill; a sidecar without them reads as before")
    func sidecar() throws {
        let record = DrillRecord(backup: "db_20261202_000000.sql.gz", at: Self.now, passed: false, durationSeconds: 1.5,
                                 mismatches: [.init(table: "public.t", expected: 2, found: 1)])
        var metadata = BackupMetadata(filename: "db_20261202_000000.sql.gz", createdAt: Self.now, database: "db",
                                      sizeBytes: 10, description: "", tables: ["public.t": 2, "pg_largeobject": 1])
        metadata.lastDrill = record
        let parsed = try BackupMetadata.parse(Array(metadata.json.serialized().utf8))
        #expect(parsed == metadata)
        metadata.tables = nil
        metadata.lastDrill = nil
        #expect(metadata.json["tables"] == nil && metadata.json["last_drill"] == nil)
        #expect(try BackupMetadata.parse(Array(metadata.json.serialized().utf8)) == metadata)
    }

    @Test("a sidecar whose tables are not counts is damaged", arguments: [#"{"public.t": -1}"#, #"{"public.t": "2"}"#, "[1]"])
    func damagedTables(tables: String) {
        let text = #"{"filename": "db_20261202_000000.sql.gz", "created_at": "2026-12-02T00:00:00Z", "size_bytes": 1, "tables": "#
            + tables + "}"
        #expect(throws: SidecarError.self) { try BackupMetadata.parse(Array(text.utf8)) }
    }

    @Test("settings: BACKUP_DRILL_DATABASE and BACKUP_DRILL_INTERVAL_HOURS")
    func settings() throws {
        let (defaults, _) = try Configuration.parse([:])
        #expect(defaults.drillDatabasePrefix == "pgbackup_drill" && defaults.drillIntervalHours == 168)
        let (set, warnings) = try Configuration.parse(["BACKUP_DRILL_DATABASE": "check", "BACKUP_DRILL_INTERVAL_HOURS": "0"])
        #expect(set.drillDatabasePrefix == "check" && set.drillIntervalHours == 0 && warnings.isEmpty)
        for bad in ["a b", "-x", String(repeating: "a", count: 50), "x\"y"] {
            #expect(throws: BackupError.self) { try Configuration.parse(["BACKUP_DRILL_DATABASE": bad]) }
        }
        for bad in ["-1", "x", "87601"] {
            #expect(throws: BackupError.self) { try Configuration.parse(["BACKUP_DRILL_INTERVAL_HOURS": bad]) }
        }
    }
}
