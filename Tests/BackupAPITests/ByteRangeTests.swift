@testable import BackupAPI
import BackupCore
import Foundation
import Testing

@Suite("Downloads: Range, If-Range, ETag")
struct ByteRangeTests {
    @Test("single ranges against a 1000-byte file", arguments: [
        ("bytes=0-99", ByteRange.bytes(first: 0, last: 99)), ("bytes=-100", .bytes(first: 900, last: 999)),
        ("bytes=990-", .bytes(first: 990, last: 999)), ("bytes=900-5000", .bytes(first: 900, last: 999)),
        ("bytes=-5000", .bytes(first: 0, last: 999)), ("BYTES=1-1", .bytes(first: 1, last: 1)), ("bytes = 1-1", .none),
        ("bytes=1000-", .unsatisfiable), ("bytes=99999999999999999999-", .unsatisfiable), ("bytes=-0", .unsatisfiable),
        ("bytes=0-1,5-6", .none), ("bytes=5-2", .none), ("items=0-1", .none), ("bytes=a-b", .none), ("bytes=-", .none),
        ("bytes=+1-2", .none),
    ])
    func parse(_ header: String, _ expected: ByteRange) {
        #expect(ByteRange.parse(header, size: 1000) == expected, "\(header)")
    }

    @Test("a suffix longer than the file selects all of it, however long its number (RFC 9110 §14.1.2)", arguments: [
        ("bytes=-1000", ByteRange.bytes(first: 0, last: 999)), ("bytes=-1001", .bytes(first: 0, last: 999)),
        ("bytes=-9223372036854775807", .bytes(first: 0, last: 999)), ("bytes=-9223372036854775808", .bytes(first: 0, last: 999)),
        ("bytes=-99999999999999999999", .bytes(first: 0, last: 999)),
        ("bytes=-\(String(repeating: "9", count: 200))", .bytes(first: 0, last: 999)),
        ("bytes=-0000000000000000000000000", .unsatisfiable), ("bytes=-0000000000000000000000010", .bytes(first: 990, last: 999)),
    ])
    func longSuffix(_ header: String, _ expected: ByteRange) {
        #expect(ByteRange.parse(header, size: 1000) == expected, "\(header)")
    }

    @Test("a suffix of an empty file is unsatisfiable, however long its number")
    func suffixOfAnEmptyFile() {
        #expect(ByteRange.parse("bytes=-99999999999999999999", size: 0) == .unsatisfiable)
        #expect(ByteRange.parse("bytes=-5", size: 0) == .unsatisfiable)
    }

    @Test("206 sends the range's bytes; 416 names the size; If-Range with another ETag sends it all")
    func router() throws {
        let fixture = try RouterFixture()
        let backup = try fixture.makeBackup(ageHours: 1)
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: fixture.path(backup.filename))))
        let uri = "/api/backups/download/\(backup.filename)"
        let etag = "\"\(backup.sha256 ?? "")\""

        let partial = fixture.handle(APIRequest(method: "GET", uri: uri, remoteUser: "alice", range: "bytes=10-19"))
        #expect(partial.status == 206)
        #expect(partial.headers.contains { $0 == ("Content-Range", "bytes 10-19/\(bytes.count)") })
        #expect(partial.headers.contains { $0 == ("ETag", etag) })
        guard case let .download(body) = partial.body else { Issue.record("not a download"); return }
        #expect(body.count == 10)
        var read: [UInt8] = []
        try body.send { read.append(contentsOf: $0) }
        #expect(read == Array(bytes[10..<20]))

        let beyond = fixture.handle(APIRequest(method: "GET", uri: uri, remoteUser: "alice", range: "bytes=\(bytes.count)-"))
        #expect(beyond.status == 416)
        #expect(beyond.headers.contains { $0 == ("Content-Range", "bytes */\(bytes.count)") })

        let stale = fixture.handle(APIRequest(method: "GET", uri: uri, remoteUser: "alice", range: "bytes=10-19", ifRange: "\"other\""))
        #expect(stale.status == 200)
        if case let .download(body) = stale.body { #expect(body.count == Int64(bytes.count)) }
        let current = fixture.handle(APIRequest(method: "GET", uri: uri, remoteUser: "alice", range: "bytes=10-19", ifRange: etag))
        #expect(current.status == 206)
    }
}
