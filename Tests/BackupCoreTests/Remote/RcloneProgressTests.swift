import Foundation
import Testing

@testable import BackupCore

@Suite("RcloneProgress")
struct RcloneProgressTests {
    final class Seen: @unchecked Sendable {
        let lock = NSLock()
        var reports: [OperationProgress] = []
        func add(_ report: OperationProgress) { lock.withLock { reports.append(report) } }
    }

    @Test("rclone's JSON stats lines, split anywhere, become upload progress; other lines are ignored")
    func statsLines() {
        let seen = Seen()
        let meter = RcloneProgress(handler: { seen.add($0) })
        let text = """
            {"level":"notice","msg":"Transferred: 1 MiB","stats":{"bytes":1048576,"totalBytes":4194304}}
            {"level":"error","msg":"something else"}
            not json
            {"level":"notice","msg":"Transferred: 4 MiB","stats":{"bytes":4194304,"totalBytes":4194304}}

            """
        let bytes = Array(text.utf8)
        for start in stride(from: 0, to: bytes.count, by: 7) {
            meter.observe(bytes[start..<min(start + 7, bytes.count)])
        }
        #expect(seen.reports.map(\.bytes) == [1_048_576, 4_194_304])
        #expect(seen.reports.allSatisfy { $0.phase == "upload" })
    }
}
