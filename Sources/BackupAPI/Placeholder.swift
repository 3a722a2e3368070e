public enum BackupAPIPlaceholder {}
