import Foundation
import TestSupport
import Testing

/// Downloads through nginx (issue 18): single Range requests with an ETag so downloads resume, and slow clients that
/// never hold the workers answering list/status.
@Suite("API downloads: ranges, resume, slow clients", .serialized)
final class APIDownloadTests {
    let stack: NginxStack

    init() throws { stack = try NginxStack(settings: ["PGBACKUP_FCGI_MAX_DOWNLOADS": "12"]) }
    deinit { stack.stop() }

    func get(_ path: String, _ arguments: [String]) throws -> HTTPResponse {
        let body = stack.scratch.appending("body-\(UUID().uuidString)")
        let result = try RawCurl.run(stack, ["-D", "-", "-o", body.path] + arguments, path: path)
        #expect(result.status == 0, "curl: \(result)")
        return try RawCurl.response(result, body: body)
    }

    @Test("200 carries Accept-Ranges and the sha256 as ETag; -r 0-99, a suffix range and an open range give 206")
    func ranges() throws {
        let fixture = try DownloadFixture.write(size: 300_000, in: stack.backupDir)
        let path = "/api/backups/download/\(fixture.name)"
        let size = fixture.data.count

        let whole = try get(path, [])
        #expect(whole.status == 200 && whole.body == fixture.data, "\(whole.status)")
        #expect(whole.header("Accept-Ranges") == "bytes")
        #expect(whole.header("ETag") == "\"\(fixture.sha256)\"")

        let first = try get(path, ["-r", "0-99"])
        #expect(first.status == 206, "\(first)")
        #expect(first.body == fixture.data.prefix(100))
        #expect(first.header("Content-Range") == "bytes 0-99/\(size)")
        #expect(first.header("Content-Length") == "100")

        let suffix = try get(path, ["-r", "-500"])
        #expect(suffix.status == 206 && suffix.body == fixture.data.suffix(500), "\(suffix.status)")
        #expect(suffix.header("Content-Range") == "bytes \(size - 500)-\(size - 1)/\(size)")

        let open = try get(path, ["-r", "299990-"])
        #expect(open.status == 206 && open.body == fixture.data.suffix(10), "\(open.status)")

        let beyondEnd = try get(path, ["-r", "299000-999999"])
        #expect(beyondEnd.status == 206 && beyondEnd.body == fixture.data.suffix(1000), "\(beyondEnd.status)")

        // Several ranges: the whole file, as RFC 9110 allows.
        let multi = try get(path, ["-r", "0-9,20-29"])
        #expect(multi.status == 200 && multi.body == fixture.data, "\(multi.status)")
    }

    @Test("an unsatisfiable range: 416 with Content-Range bytes */SIZE and the JSON error shape")
    func unsatisfiable() throws {
        let fixture = try DownloadFixture.write(size: 1000, in: stack.backupDir)
        let response = try get("/api/backups/download/\(fixture.name)", ["-r", "1000-"])
        expectAPIError(response, 416, "range_not_satisfiable", "range past the end")
        #expect(response.header("Content-Range") == "bytes */1000")
    }

    @Test("If-Range: the right ETag resumes (206), a wrong one gets the whole file (200)")
    func ifRange() throws {
        let fixture = try DownloadFixture.write(size: 5000, in: stack.backupDir)
        let path = "/api/backups/download/\(fixture.name)"
        let right = try get(path, ["-r", "100-", "-H", "If-Range: \"\(fixture.sha256)\""])
        #expect(right.status == 206 && right.body == fixture.data.dropFirst(100), "\(right.status)")
        let wrong = try get(path, ["-r", "100-", "-H", "If-Range: \"\(String(repeating: "0", count: 64))\""])
        #expect(wrong.status == 200 && wrong.body == fixture.data, "\(wrong.status)")
    }

    @Test("curl -C - resumes a cut download; the result's sha256 is the sidecar's")
    func resume() throws {
        let fixture = try DownloadFixture.write(size: 2_000_000, in: stack.backupDir)
        let output = stack.scratch.appending("resumed.sql.gz")
        // A download cut at 700 KB, as a dropped connection would leave it.
        try fixture.data.prefix(700_000).write(to: output)
        let result = try RawCurl.run(stack, ["-f", "-C", "-", "-o", output.path, "-w", "%{http_code}"],
                                     path: "/api/backups/download/\(fixture.name)")
        #expect(result.status == 0 && result.out == "206", "\(result)")
        #expect(try BackupFiles.sha256(output) == fixture.sha256)
    }

    /// Big enough that a slow client's download cannot end up whole in the kernel's socket buffers (loopback TCP
    /// buffers grow to several MB on each side): the responder must still be writing it when status is asked.
    static let slowSize = 40_000_000

    @Test("more slow downloads than workers: status keeps answering within 2 s each time")
    func slowDownloadsDoNotStarveStatus() throws {
        let fixture = try DownloadFixture.write(size: Self.slowSize, in: stack.backupDir)
        // 10 clients reading at 20 KB/s (the responder has 8 workers); each is bounded by --max-time.
        var downloads: [RunningProcess] = []
        defer { for download in downloads { download.signal(SIGKILL); _ = download.wait(timeout: .seconds(10)) } }
        for _ in 0..<10 {
            downloads.append(try RawCurl.start(stack, ["--limit-rate", "20k", "--max-time", "40", "-o", "/dev/null"],
                                               path: "/api/backups/download/\(fixture.name)"))
        }
        Thread.sleep(forTimeInterval: 2)
        var timings: [Double] = []
        for _ in 0..<5 {
            let started = Date()
            let result = try RawCurl.run(stack, ["--max-time", "5", "-o", "/dev/null", "-w", "%{http_code}"],
                                         path: "/api/backups/status")
            timings.append(Date().timeIntervalSince(started))
            #expect(result.out == "200", "status during slow downloads: \(result)")
            let metadata = try RawCurl.run(stack, ["--max-time", "5", "-o", "/dev/null", "-w", "%{http_code}"],
                                           path: "/api/backups/\(fixture.name)", credentials: .reader)
            #expect(metadata.out == "200", "metadata during slow downloads: \(metadata)")
            Thread.sleep(forTimeInterval: 0.5)
        }
        #expect(timings.allSatisfy { $0 < 2 }, "status took \(timings) s")
        let stillRunning = downloads.filter { $0.isRunning }.count
        #expect(stillRunning == downloads.count, "the slow downloads must still run during the measurement")
        // Backups are not copied into nginx's temp files on the way.
        let temp = FileTools.allFiles(under: stack.nginxDir.appendingPathComponent("tmp"))
        #expect(temp.isEmpty, "nginx spooled to \(temp)")
    }
}

@Suite("API downloads: the cap", .serialized)
struct APIDownloadCapTests {
    @Test("past PGBACKUP_FCGI_MAX_DOWNLOADS a download gets 503 JSON with Retry-After; status still answers")
    func cap() throws {
        let stack = try NginxStack(settings: ["PGBACKUP_FCGI_MAX_DOWNLOADS": "2"])
        defer { stack.stop() }
        let fixture = try DownloadFixture.write(size: APIDownloadTests.slowSize, in: stack.backupDir)
        let path = "/api/backups/download/\(fixture.name)"
        var downloads: [RunningProcess] = []
        defer { for download in downloads { download.signal(SIGKILL); _ = download.wait(timeout: .seconds(10)) } }
        for _ in 0..<2 {
            downloads.append(try RawCurl.start(stack, ["--limit-rate", "20k", "--max-time", "30", "-o", "/dev/null"], path: path))
        }
        Thread.sleep(forTimeInterval: 2)
        let refused = try stack.request("GET", path, timeout: 10)
        expectAPIError(refused, 503, "too_many_downloads", "third download")
        #expect(refused.header("Retry-After") == "10")
        #expect(try stack.get("/api/backups/status").status == 200)
        for download in downloads { download.signal(SIGKILL); _ = download.wait(timeout: .seconds(10)) }
        downloads = []
        // Slots come back once the clients are gone.
        var again = try stack.request("GET", path, timeout: 30)
        for _ in 0..<20 where again.status == 503 {
            Thread.sleep(forTimeInterval: 0.5)
            again = try stack.request("GET", path, timeout: 30)
        }
        #expect(again.status == 200 && again.body.count == fixture.data.count, "\(again.status)")
    }
}
