@testable import BackupCore
import Foundation
import TestSupport
import Testing

@Suite("MetricsText: the Prometheus text format 0.0.4")
struct MetricsTextTests {
    @Test("a family is HELP, TYPE, then its samples; labels in the order given")
    func familyLayout() {
        var text = MetricsText()
        text.add("pgbackup_backups", help: "Number of complete backups, per database.",
                 [.init([("database", "appdb")], 3), .init([("database", "other")], 1)])
        text.add("pgbackup_healthy", help: "1 when healthy.", value: 1)
        #expect(text.rendered == """
            # HELP pgbackup_backups Number of complete backups, per database.
            # TYPE pgbackup_backups gauge
            pgbackup_backups{database="appdb"} 3
            pgbackup_backups{database="other"} 1
            # HELP pgbackup_healthy 1 when healthy.
            # TYPE pgbackup_healthy gauge
            pgbackup_healthy 1

            """)
    }

    @Test("label values escape backslash, double quote and line feed, and nothing else",
          arguments: [
              ("plain", "plain"), (#"back\slash"#, #"back\\slash"#), (#"say "hi""#, #"say \"hi\""#),
              ("two\nlines", #"two\nlines"#), (#"\n"#, #"\\n"#), ("tab\tand é", "tab\tand é"),
              (#"all \ " "# + "\n", #"all \\ \" \n"#),
          ])
    func labelEscaping(raw: String, escaped: String) {
        #expect(MetricsText.escapeLabelValue(raw) == escaped)
    }

    @Test("help text escapes backslash and line feed but not quotes")
    func helpEscaping() {
        #expect(MetricsText.escapeHelp(#"a "b" \ c"# + "\nd") == #"a "b" \\ c\nd"#)
    }

    @Test("values: integers exact, fractions shortest, NaN and infinities spelled as the format does",
          arguments: [(0.0, "0"), (3.0, "3"), (-2.0, "-2"), (1_780_000_000.0, "1780000000"), (0.5, "0.5"),
                      (1_780_000_000.25, "1780000000.25"), (.nan, "NaN"), (.infinity, "+Inf"), (-.infinity, "-Inf"),
                      (9_007_199_254_740_993_000.0, "9.007199254740993e+18")])
    func valueFormat(value: Double, text: String) {
        #expect(MetricsText.format(value) == text)
    }

    @Test("metric and label names follow Prometheus' grammar")
    func names() {
        #expect(MetricsText.isValidName("pgbackup_last_success_timestamp_seconds"))
        #expect(MetricsText.isValidName("a:b_c1"))
        #expect(!MetricsText.isValidName("1abc"))
        #expect(!MetricsText.isValidName("pg-backup"))
        #expect(!MetricsText.isValidName(""))
        #expect(MetricsText.isValidLabelName("database"))
        #expect(!MetricsText.isValidLabelName("__name"))
        #expect(!MetricsText.isValidLabelName("a:b"))
    }

    @Test("a family without samples keeps its HELP and TYPE lines")
    func emptyFamily() {
        var text = MetricsText()
        text.add("pgbackup_last_backup_timestamp_seconds", help: "When.", time: nil)
        #expect(text.rendered == "# HELP pgbackup_last_backup_timestamp_seconds When.\n# TYPE pgbackup_last_backup_timestamp_seconds gauge\n")
    }

    @Test("promtool check metrics accepts hostile label values and empty families")
    func promtoolAccepts() throws {
        var text = MetricsText()
        text.add("pgbackup_backups", help: #"Count "quoted" \ help"# + "\nsecond line",
                 [.init([("database", #"we"ird\db"# + "\nname")], 2), .init([("database", "")], 0)])
        text.add("pgbackup_last_failure_timestamp_seconds", help: "When.", time: nil)
        text.add("pgbackup_healthy", help: "Healthy.", value: 0)
        let result = try MetricsTextTests.promtool(text.rendered)
        #expect(result.status == 0, "\(result)\n\(text.rendered)")
    }

    /// `promtool check metrics` on `text` (stdin); lint problems make it exit 1 too.
    static func promtool(_ text: String) throws -> ProcessResult {
        try ProcessRunner.run(try #require(ProcessRunner.which("promtool")), ["check", "metrics"], stdin: Data(text.utf8))
    }
}
