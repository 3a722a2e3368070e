/// Why a backup was made.
public enum BackupKind: String, Sendable, CaseIterable {
    case manual
    case scheduled
    case preRestore = "pre-restore"
}
