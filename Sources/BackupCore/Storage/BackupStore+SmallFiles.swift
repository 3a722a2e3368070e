/// Small files of the directory's own, beside the backups (`.schedule.json`): read whole, written atomically
/// through `.partial/` (so only under the lock).
extension BackupStore {
    /// The file `name`'s bytes; nil when it is missing or cannot be read.
    func readSmallFile(_ name: String) -> [UInt8]? {
        (try? FileSystem.readSmallFile("\(directory)/\(name)")).flatMap { $0 }
    }

    func writeSmallFile(_ name: String, _ bytes: [UInt8]) throws {
        try BackupError.mapping {
            try FileSystem.writeAtomically(bytes, to: "\(directory)/\(name)", tempDirectory: partialDirectory)
        }
    }
}
