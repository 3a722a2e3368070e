@testable import BackupCore
import Foundation
import Testing

@Suite("Monitoring settings: URLs, redaction, BACKUP_NOTIFY_ON, healthcheck pings, curl's config")
struct MonitoringSettingsTests {
    @Test("redaction keeps only scheme://host[:port]",
          arguments: [
              ("https://user:secret@hooks.example.com/services/T0/B0/token", "https://hooks.example.com"),
              ("https://hc-ping.com/5f1c0e8e-uuid-token", "https://hc-ping.com"),
              ("http://127.0.0.1:8080/hook?key=abc", "http://127.0.0.1:8080"),
              ("http://a@b@host/x", "http://host"),
              ("https://host", "https://host"),
              ("not a url", "(unparsable URL)"),
          ])
    func redaction(url: String, shown: String) {
        #expect(URLRedaction.redact(url) == shown)
    }

    @Test("scrub removes the URL, its user information and its path from a message")
    func scrub() {
        let url = "https://bob:pa55word@hooks.example.com/T0/secret-token"
        let message = "curl: (22) \(url) said no; user bob:pa55word; path /T0/secret-token"
        let scrubbed = URLRedaction.scrub(message, url: url)
        #expect(!scrubbed.contains("pa55word"))
        #expect(!scrubbed.contains("secret-token"))
        #expect(scrubbed.contains("https://hooks.example.com"))
        let error = NotificationError(url: url, reason: message)
        #expect(!error.description.contains("pa55word") && !error.description.contains("secret-token"))
        #expect(error.description.hasPrefix("notification to https://hooks.example.com failed: "))
    }

    @Test("BACKUP_NOTIFY_ON is failure by default, failure or always in any case, and nothing else",
          arguments: [(nil, "failure"), ("failure", "failure"), ("always", "always"), ("ALWAYS", "always"),
                      (" always ", "always"), ("", "failure")])
    func notifyOn(text: String?, expected: String) throws {
        let values = text.map { ["BACKUP_NOTIFY_ON": $0] } ?? [:]
        #expect(try Configuration.parse(values).0.monitoring.notifyOn.rawValue == expected)
    }

    @Test("a bad BACKUP_NOTIFY_ON is refused naming the choices")
    func notifyOnRefused() {
        #expect(throws: BackupError.invalidConfiguration(variable: "BACKUP_NOTIFY_ON", value: "sometimes",
                                                         reason: "expected failure or always")) {
            try Configuration.parse(["BACKUP_NOTIFY_ON": "sometimes"])
        }
    }

    @Test("a notification URL must be http(s) with a host; the refusal never shows its secrets",
          arguments: ["ftp://user:secret@host/x", "https://user:secret@/x", "https://user:secret@host/a b", "secret"])
    func urlRefused(url: String) {
        do {
            _ = try Configuration.parse(["BACKUP_NOTIFY_URL": url])
            Issue.record("accepted \(url)")
        } catch {
            #expect(!"\(error)".contains("secret"), "\(error)")
        }
    }

    @Test("the monitoring settings are known, parsed and not warned about")
    func parsed() throws {
        let (config, warnings) = try Configuration.parse([
            "BACKUP_NOTIFY_URL": "https://u:p@hooks.example.com/x", "BACKUP_HEALTHCHECK_URL": "https://hc-ping.com/uuid",
            "BACKUP_METRICS_TEXTFILE": "/var/lib/node_exporter/pgbackup.prom",
        ])
        #expect(warnings.isEmpty)
        #expect(config.monitoring == Configuration.Monitoring(
            metricsTextfile: "/var/lib/node_exporter/pgbackup.prom", notifyURL: "https://u:p@hooks.example.com/x",
            notifyOn: .failure, healthcheckURL: "https://hc-ping.com/uuid"))
        #expect(throws: BackupError.self) { try Configuration.parse(["BACKUP_METRICS_TEXTFILE": "relative.prom"]) }
    }

    @Test("healthcheck pings: /start, the URL itself, /fail; a query string stays last",
          arguments: [(HealthcheckPing.start, "https://hc-ping.com/uuid/start"), (.success, "https://hc-ping.com/uuid"),
                      (.failure, "https://hc-ping.com/uuid/fail")])
    func pingURLs(ping: HealthcheckPing, url: String) {
        #expect(ping.url(base: "https://hc-ping.com/uuid") == url)
        #expect(ping.url(base: "https://hc-ping.com/uuid/") == url)
        #expect(ping.url(base: "https://hc-ping.com/uuid?rid=1") == url + "?rid=1")
    }

    @Test("curl's config quotes the URL and body, so neither reaches argv and a quote cannot end the value")
    func curlConfig() {
        let config = CurlTransport.config(url: "https://u:p@host/x", body: Array(#"{"m":"a \"q\" \ b"}"#.utf8) + [0x0a],
                                          contentType: "application/json", timeoutSeconds: 5)
        #expect(config.contains(#"url = "https://u:p@host/x""#))
        #expect(config.contains(#"data-binary = "{\"m\":\"a \\\"q\\\" \\ b\"}\n""#))
        #expect(config.contains("max-time = 5\n"))
        #expect(config.contains(#"header = "Content-Type: application/json""#))
        #expect(config.split(separator: "\n").count == 12)
    }
}
