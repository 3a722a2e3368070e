import Foundation

/// The atomic write node_exporter's textfile collector needs: a temp file in the target's own directory (so the
/// rename cannot cross file systems; its name does not end in `.prom`, so the collector skips it), mode 0644
/// whatever the umask, fsynced, then renamed over the target.
enum MetricsTextfile {
    static func write(_ bytes: [UInt8], to path: String) throws {
        try BackupError.mapping {
            try FileSystem.writeAtomically(bytes, to: path, tempDirectory: (path as NSString).deletingLastPathComponent,
                                           mode: 0o644)
        }
    }
}
