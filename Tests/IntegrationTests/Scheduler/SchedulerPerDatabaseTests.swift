import Foundation
import Testing

/// Issue 16 for the oneshot: only POSTGRES_DB's scheduled backups decide, and one dated in the future (the clock
/// was stepped back) holds the schedule off for at most one interval, with a warning.
extension SchedulerTests {
    @Test func anotherDatabasesScheduledBackupDoesNotHoldThisOneOff() throws {
        let first = try ctx.sampleDatabase("sched_a")
        let second = try ctx.sampleDatabase("sched_b")
        #expect(try scheduler(first).status == 0)
        let run = try scheduler(second)
        #expect(run.status == 0, "\(run)")
        #expect(run.err.contains("Running scheduled backup..."), "\(run.err)")
        let scheduled = try ctx.list(second).filter { $0["kind"] as? String == "scheduled" }
        #expect(Set(scheduled.compactMap { $0["database"] as? String }) == [first, second])
        // Each is now not due, from its own backup.
        for database in [first, second] {
            let again = try scheduler(database)
            #expect(again.err.contains("not due") && again.err.contains("backup_\(database)_"), "\(again.err)")
        }
    }

    @Test func aFutureDatedScheduledBackupHoldsOffAtMostOneInterval() throws {
        let db = try ctx.sampleDatabase("sched_future")
        #expect(try scheduler(db).status == 0)
        let name = try #require(ctx.dumpFiles().first)
        try ctx.ageBackup(name, days: -10)  // dated ten days ahead: the clock went back ten days since

        let held = try scheduler(db)
        #expect(held.status == 0, "\(held)")
        #expect(held.err.contains("warning") && held.err.contains("dated in the future"), "\(held.err)")
        #expect(held.err.contains("at most one interval"), "\(held.err)")
        #expect(ctx.dumpFiles() == [name])
        let record = ctx.backupDir.appendingPathComponent(".schedule.json")
        var hold = try JSON.object(try Data(contentsOf: record))
        #expect(hold["filename"] as? String == name)

        // One interval after the first sighting (moved back instead of waiting a day), the next run backs up,
        // and the run after that is not due from the new backup, not from the future-dated one.
        hold["first_seen"] = TimeText.iso8601(Date().addingTimeInterval(-25 * 3600))
        try JSON.write(hold, to: record)
        let due = try scheduler(db)
        #expect(due.status == 0, "\(due)")
        #expect(due.err.contains("Running scheduled backup..."), "\(due.err)")
        let fresh = try #require(ctx.dumpFiles().first { $0 != name })
        let after = try scheduler(db)
        #expect(after.err.contains("not due: last scheduled backup \(fresh)"), "\(after.err)")
        #expect(ctx.dumpFiles().count == 2)
    }
}
