import Foundation
import TestSupport
import Testing

extension ProcessTests {
    /// The Server's concurrency, streaming and shutdown behaviour, through nginx and curl.
    @Suite struct ServerBehaviour {
        @Test func aSlowRequestDoesNotBlockAnother() throws {
            let front = try FrontEnd()
            defer { front.shutdown() }
            let slow = try front.start("/api/backups/slow?ms=3000")
            usleep(300_000)
            let started = Date()
            let fast = try front.request("/api/backups/quick")
            let fastSeconds = Date().timeIntervalSince(started)
            #expect(fast.status == 200)
            #expect(fastSeconds < 2.0, "the fast request took \(fastSeconds) s")
            #expect(slow.child.isRunning, "the slow request should still be running")

            let slowResponse = try slow.finish()
            #expect(slowResponse.status == 200)
            #expect(try slowResponse.json()["slept_ms"] as? Int == 3000)
        }

        @Test func aMultiMegabyteBodyIsStreamedInChunks() throws {
            let front = try FrontEnd()
            defer { front.shutdown() }
            let size = 8 * 1024 * 1024 + 12_345
            let response = try front.request("/api/backups/stream?bytes=\(size)&chunk=65536")
            #expect(response.status == 200)
            #expect(response.headers.lowercased().contains("content-length: \(size)"))
            #expect(response.body.count == size)
            #expect(Array(response.body) == streamPattern(count: size))
            #expect(Poll.until(timeout: 5, interval: 20_000) { front.echo?.stderr.contains("stream: sent \(size) bytes") == true })
        }

        /// Writes of every size, unflushed, around libfcgi's 8 KiB buffer and the 64 KiB record limit, arrive whole
        /// and in order.
        @Test func smallAndLargeWritesArriveInOrder() throws {
            let front = try FrontEnd()
            defer { front.shutdown() }
            let size = 3_000_000
            let response = try front.request(
                "/api/backups/stream?bytes=\(size)&chunks=1,16383,16384,100,65528,65529,200000,7&flush=0")
            #expect(response.status == 200)
            #expect(response.body.count == size)
            #expect(Array(response.body) == streamPattern(count: size))
        }

        @Test func aClientLeavingMidStreamDoesNotHurtTheServer() throws {
            let front = try FrontEnd()
            defer { front.shutdown() }
            // 1 GiB at ~6 MB/s: curl gives up after 2 s, long before the end.
            let abandoned = try front.request(
                "/api/backups/stream?bytes=1073741824&chunk=65536&delay_ms=10", timeout: 2)
            #expect(abandoned.curlExit == 28)
            #expect(abandoned.body.count > 0 && abandoned.body.count < 1_073_741_824)

            let noticed = Poll.until(timeout: 15, interval: 20_000) {
                front.echo?.stderr.contains("stream: client disconnected after") == true
            }
            #expect(noticed, "fcgi-echo log: \(front.echo?.stderr ?? "")")
            #expect(front.echo?.isRunning == true)
            let after = try front.request("/api/backups")
            #expect(after.status == 200)
        }

        @Test func bodiesPastTheHandlersLimitAreRefused() throws {
            let front = try FrontEnd()
            defer { front.shutdown() }
            let large = front.scratch.url.appendingPathComponent("5000")
            try Data(repeating: 0x62, count: 5000).write(to: large)
            let refused = try front.request("/api/backups/body?limit=1000", extraArguments: ["--data-binary", "@\(large.path)"])
            #expect(refused.status == 413)
            let refusal = try refused.json()
            #expect(refusal["error"] as? String == "bodyTooLarge")
            #expect(refusal["limit"] as? Int == 1000)

            let bytes = (0..<1000).map { UInt8(255 - $0 % 256) }
            let exact = front.scratch.url.appendingPathComponent("1000")
            try Data(bytes).write(to: exact)
            let accepted = try front.request("/api/backups/body?limit=1000", extraArguments: ["--data-binary", "@\(exact.path)"])
            #expect(accepted.status == 200)
            let echoed = try accepted.json()
            #expect(echoed["body_length"] as? Int == 1000)
            #expect(echoed["body_fnv1a"] as? String == fnv1a(bytes))
        }

        @Test func aHandlerThatDoesNotAnswerYieldsA500() throws {
            let front = try FrontEnd()
            defer { front.shutdown() }
            let response = try front.request("/api/backups/silent")
            #expect(response.status == 500)
            #expect(response.text == "the request handler sent no response\n")
            #expect(try front.request("/api/backups").status == 200)
        }

        @Test func sigtermLetsTheRunningRequestFinishAndStopsAccepting() throws {
            let front = try FrontEnd()
            defer { front.shutdown() }
            let echo = try #require(front.echo)
            let slow = try front.start("/api/backups/slow?ms=3000")
            usleep(800_000)
            echo.signal(SIGTERM)
            #expect(Poll.until(timeout: 5, interval: 20_000) { echo.stderr.contains("stopping: SIGTERM") })
            #expect(echo.isRunning, "the responder must wait for the slow request")
            #expect(!FileManager.default.fileExists(atPath: front.socketPath), "the socket should be gone at once")
            let late = try front.request("/api/backups")
            #expect(late.status == 502)

            let finished = try slow.finish()
            #expect(finished.status == 200)
            #expect(try finished.json()["slept_ms"] as? Int == 3000)
            #expect(echo.wait(timeout: 10) == 0)
            #expect(echo.stderr.contains("stopped"))
        }

        @Test func spawnFcgiStyleLaunchOnFdZeroWorks() throws {
            let front = try FrontEnd(startEcho: false)
            defer { front.shutdown() }
            var arguments = ["-s", front.socketPath, "-M", runningAsRoot ? "0660" : "0600", "-n"]
            if runningAsRoot { arguments += ["-G", "www-data"] }
            let echo = try LoggedProcess(
                try ProcessRunner.tool("spawn-fcgi"), arguments + ["--", Paths.echo], in: front.scratch.url, name: "spawned")
            defer { echo.stop() }
            try FrontEnd.waitUntilListening(echo)
            #expect(echo.stderr.contains("listening on fd 0"))

            let response = try front.request("/api/backups")
            #expect(response.status == 200)
            let echoed = try response.json()
            #expect(echoed["listener"] as? String == "stdin")
            #expect(echoed["fd0_listening"] as? Bool == false)
            #expect(echoed["pid"] as? Int == Int(echo.pid))  // spawn-fcgi -n execs the responder in place

            echo.signal(SIGTERM)
            #expect(echo.wait(timeout: 10) == 0)
        }
    }
}
