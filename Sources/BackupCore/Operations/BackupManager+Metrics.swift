import Foundation

extension BackupManager {
    /// The metrics, read the way `status` reads (both caches, no lock taken).
    public func metrics() throws -> BackupMetrics {
        BackupMetrics(status: try status(), totals: try ListingCache(store: store).totals())
    }

    /// Writes the metrics to `BACKUP_METRICS_TEXTFILE` (when set) for node_exporter's textfile collector:
    /// a temp file in the same directory, 0644, renamed into place, so the collector never reads half a file.
    /// Never throws: a failure is logged, and the scheduler's run is not failed by it.
    public func writeMetricsTextfile() {
        guard let path = configuration.monitoring.metricsTextfile else { return }
        do {
            let bytes = Array(try metrics().text.utf8)
            try MetricsTextfile.write(bytes, to: path)
        } catch {
            logger.warning("could not write the metrics textfile", metadata: ["path": "\(path)", "error": "\(error)"])
        }
    }
}
