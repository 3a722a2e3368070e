import Foundation

extension BackupManager {
    /// Verifies every backup in the listing, one after another. A backup that fails is recorded and the next one
    /// checked; one deleted since the listing is reported as gone, not failed. `each` sees every entry as soon as
    /// it is settled (the CLI prints them as they come).
    public func verifyAll(each: ((VerifyAllReport.Entry) -> Void)? = nil) throws -> VerifyAllReport {
        let listing = try list()
        var entries: [VerifyAllReport.Entry] = []
        func settle(_ entry: VerifyAllReport.Entry) {
            entries.append(entry)
            each?(entry)
        }
        for backup in listing.backups {
            do {
                settle(.init(filename: backup.filename, outcome: .verified(try verify(backup.filename))))
            } catch let error as BackupError where wasRemoved(backup.filename) {
                settle(.init(filename: backup.filename, outcome: .gone(code: error.code)))
            } catch let error as BackupError {
                settle(.init(filename: backup.filename, outcome: .failed(code: error.code, detail: error.description)))
            }
        }
        for damaged in listing.damaged {
            let code = BackupError.verificationFailed(name: damaged.filename, reason: damaged.error).code
            settle(.init(filename: damaged.filename, outcome: .failed(code: code, detail: damaged.error)))
        }
        return VerifyAllReport(entries: entries, orphans: listing.orphans)
    }
}
