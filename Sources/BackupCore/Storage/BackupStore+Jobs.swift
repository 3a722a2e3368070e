import Foundation

/// The async jobs' files in `$BACKUP_DIR/.jobs/`: `<id>.json` (the job) and `<id>.pid` (its process, written by
/// the starter before the job's own process writes anything).
extension BackupStore {
    func jobPath(_ id: String) -> String { "\(jobsDirectory)/\(id).json" }
    private func jobPIDPath(_ id: String) -> String { "\(jobsDirectory)/\(id).pid" }

    func saveJob(_ bytes: [UInt8], id: String) throws {
        try BackupError.mapping {
            try FileSystem.makeDirectory(jobsDirectory)
            try FileSystem.writeAtomically(bytes, to: jobPath(id), tempDirectory: jobsDirectory)
        }
    }

    /// The job file's bytes; nil when there is none.
    func readJob(_ id: String) throws -> [UInt8]? {
        try BackupError.mapping { try FileSystem.readSmallFile(jobPath(id)) }
    }

    /// Best effort: without it, a job whose process died before writing anything shows as queued.
    func saveJobPID(_ pid: Int32, id: String) {
        try? FileSystem.writeAtomically(Array(String(pid).utf8), to: jobPIDPath(id), tempDirectory: jobsDirectory)
    }

    func readJobPID(_ id: String) -> Int32? {
        (try? FileSystem.readSmallFile(jobPIDPath(id))).flatMap { $0 }.flatMap { Int32(String(decoding: $0, as: UTF8.self)) }
    }

    /// The ids of the job files present (names not checked); empty when there is no jobs directory.
    func jobIDs() -> [String] {
        ((try? FileSystem.list(jobsDirectory)) ?? []).filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }
    }

    /// Removes a job's files (best effort).
    func removeJob(_ id: String) {
        try? FileSystem.remove(jobPath(id))
        try? FileSystem.remove(jobPIDPath(id))
    }
}
