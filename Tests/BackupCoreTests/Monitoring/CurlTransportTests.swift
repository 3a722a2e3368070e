@testable import BackupCore
import Foundation
import TestSupport
import Testing

/// The real curl against a receiver on loopback.
@Suite("CurlTransport: POSTs through curl -K -, bounded by the timeout", .serialized)
struct CurlTransportTests {
    @Test("the body and content type arrive; user information becomes basic auth")
    func delivers() throws {
        let scratch = try TemporaryDirectory(prefix: "curl")
        defer { scratch.remove() }
        let receiver = try HTTPReceiver(.ok, in: scratch)
        let url = "http://hook:s3cret@127.0.0.1:\(receiver.port)/hook/token"
        try CurlTransport().post(url: url, body: Array(#"{"event":"create.failure"}"#.utf8), contentType: "application/json")
        let got = receiver.waitFor(1)
        #expect(got == [HTTPReceiver.Received(method: "POST", path: "/hook/token",
                                              authorization: "Basic " + Data("hook:s3cret".utf8).base64EncodedString(),
                                              body: #"{"event":"create.failure"}"#)])
    }

    @Test("a 500 is a failure whose message shows no secret")
    func serverError() throws {
        let scratch = try TemporaryDirectory(prefix: "curl")
        defer { scratch.remove() }
        let receiver = try HTTPReceiver(.status(500), in: scratch)
        let url = "http://hook:s3cret@127.0.0.1:\(receiver.port)/hook/t0ken"
        do {
            try CurlTransport().post(url: url, body: [], contentType: nil)
            Issue.record("a 500 was taken for a delivery")
        } catch let error as NotificationError {
            #expect(error.destination == "http://127.0.0.1:\(receiver.port)")
            #expect(!error.description.contains("s3cret") && !error.description.contains("t0ken"), "\(error)")
        }
    }

    @Test("a receiver that never answers costs the timeout, not more")
    func hangingReceiver() throws {
        let scratch = try TemporaryDirectory(prefix: "curl")
        defer { scratch.remove() }
        let receiver = try HTTPReceiver(.hang, in: scratch)
        let started = Date()
        #expect(throws: NotificationError.self) {
            try CurlTransport(timeoutSeconds: 2).post(url: receiver.baseURL + "/x", body: [], contentType: nil)
        }
        let elapsed = Date().timeIntervalSince(started)
        #expect(elapsed >= 1.5 && elapsed < 3.5, "took \(elapsed) s")
        #expect(receiver.received().count == 1)
    }

    @Test("nothing listening is a quick failure")
    func refused() throws {
        let port = try LoopbackPort.free()
        let started = Date()
        #expect(throws: NotificationError.self) {
            try CurlTransport().post(url: "http://127.0.0.1:\(port)/", body: [], contentType: nil)
        }
        #expect(Date().timeIntervalSince(started) < 3)
    }
}
