public enum BackupCorePlaceholder {}
