import Foundation

extension Configuration {
    /// The monitoring settings. Their environment names are read here rather than in `Configuration.swift`, which
    /// would pass 250 lines; `Configuration.parse` is still the one place that calls this.
    public struct Monitoring: Sendable, Equatable {
        /// When a notification is sent: on failures only (the default), or on successes too.
        public enum NotifyOn: String, Sendable, Equatable { case failure, always }

        /// `BACKUP_METRICS_TEXTFILE`: where the scheduler writes the metrics for node_exporter's textfile
        /// collector after every run (an absolute path; the collector reads `*.prom`); unset: not written.
        public var metricsTextfile: String?
        /// `BACKUP_NOTIFY_URL`: an http(s) URL that gets a JSON POST for each failure (and success, see `notifyOn`).
        public var notifyURL: String?
        /// `BACKUP_NOTIFY_ON`: `failure` (default) or `always`.
        public var notifyOn: NotifyOn = .failure
        /// `BACKUP_HEALTHCHECK_URL`: a healthchecks.io-style ping URL (`/start`, itself, `/fail`) for scheduler runs.
        public var healthcheckURL: String?

        public init(metricsTextfile: String? = nil, notifyURL: String? = nil, notifyOn: NotifyOn = .failure,
                    healthcheckURL: String? = nil) {
            self.metricsTextfile = metricsTextfile
            self.notifyURL = notifyURL
            self.notifyOn = notifyOn
            self.healthcheckURL = healthcheckURL
        }

        static let keys: Set<String> = [
            "BACKUP_METRICS_TEXTFILE", "BACKUP_NOTIFY_URL", "BACKUP_NOTIFY_ON", "BACKUP_HEALTHCHECK_URL",
        ]

        static func parse(_ values: [String: String]) throws -> Monitoring {
            func value(_ key: String) -> String? {
                let trimmed = values[key]?.trimmingCharacters(in: .whitespaces) ?? ""
                return trimmed.isEmpty ? nil : trimmed
            }
            var monitoring = Monitoring()
            if let path = value("BACKUP_METRICS_TEXTFILE") {
                guard path.hasPrefix("/"), !path.contains("\0"), !path.contains("\n"), !path.hasSuffix("/") else {
                    throw BackupError.invalidConfiguration(variable: "BACKUP_METRICS_TEXTFILE", value: path,
                                                           reason: "not an absolute file path")
                }
                monitoring.metricsTextfile = path
            }
            monitoring.notifyURL = try url(value("BACKUP_NOTIFY_URL"), variable: "BACKUP_NOTIFY_URL")
            monitoring.healthcheckURL = try url(value("BACKUP_HEALTHCHECK_URL"), variable: "BACKUP_HEALTHCHECK_URL")
            if let text = value("BACKUP_NOTIFY_ON") {
                guard let setting = NotifyOn(rawValue: text.lowercased()) else {
                    throw BackupError.invalidConfiguration(variable: "BACKUP_NOTIFY_ON", value: text,
                                                           reason: "expected failure or always")
                }
                monitoring.notifyOn = setting
            }
            return monitoring
        }

        /// An http or https URL with a host. The error shows only the redacted URL: it may carry credentials.
        private static func url(_ text: String?, variable: String) throws -> String? {
            guard let text else { return nil }
            guard URLRedaction.isHTTPURL(text) else {
                throw BackupError.invalidConfiguration(variable: variable, value: URLRedaction.redact(text),
                                                       reason: "expected an http:// or https:// URL with a host")
            }
            return text
        }
    }
}
