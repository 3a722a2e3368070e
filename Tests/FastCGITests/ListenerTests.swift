import Foundation
import TestSupport
import Testing

@testable import FastCGI

@Suite struct ListenerResolution {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let socketPath: String?
        let environment: [String: String]
        let stdinListening: Bool
        let expected: Listener
        var testDescription: String { name }
    }

    static let ourPID: pid_t = 4242

    static let cases: [Case] = [
        Case(name: "--socket wins over everything", socketPath: "/run/a.sock",
             environment: ["PGBACKUP_FCGI_SOCKET": "/run/b.sock", "LISTEN_FDS": "1", "LISTEN_PID": "4242"],
             stdinListening: true, expected: .unixSocket(path: "/run/a.sock", mode: 0o660, group: nil)),
        Case(name: "PGBACKUP_FCGI_SOCKET before socket activation", socketPath: nil,
             environment: ["PGBACKUP_FCGI_SOCKET": "/run/b.sock", "LISTEN_FDS": "1", "LISTEN_PID": "4242"],
             stdinListening: true, expected: .unixSocket(path: "/run/b.sock", mode: 0o660, group: nil)),
        Case(name: "LISTEN_FDS for this pid", socketPath: nil,
             environment: ["LISTEN_FDS": "1", "LISTEN_PID": "4242"], stdinListening: true, expected: .inheritedSystemd),
        Case(name: "LISTEN_FDS for another pid is ignored", socketPath: nil,
             environment: ["LISTEN_FDS": "1", "LISTEN_PID": "1"], stdinListening: true, expected: .inheritedStdin),
        Case(name: "an empty PGBACKUP_FCGI_SOCKET is ignored", socketPath: nil,
             environment: ["PGBACKUP_FCGI_SOCKET": ""], stdinListening: true, expected: .inheritedStdin),
    ]

    @Test(arguments: cases)
    func picksTheDocumentedListener(_ entry: Case) throws {
        let listener = try Listener.resolve(
            socketPath: entry.socketPath, environment: entry.environment, processID: Self.ourPID,
            isListeningSocket: { fd in fd == 0 && entry.stdinListening })
        #expect(listener == entry.expected)
    }

    @Test func modeAndGroupArePassedToTheSocket() throws {
        let listener = try Listener.resolve(
            socketPath: nil, environment: ["PGBACKUP_FCGI_SOCKET": "/run/x.sock"], mode: 0o600, group: "www-data",
            processID: Self.ourPID, isListeningSocket: { _ in false })
        #expect(listener == .unixSocket(path: "/run/x.sock", mode: 0o600, group: "www-data"))
    }

    @Test func nothingToListenOnIsAClearError() {
        #expect(throws: FastCGIError.noListener) {
            try Listener.resolve(socketPath: nil, environment: [:], processID: Self.ourPID, isListeningSocket: { _ in false })
        }
        #expect(FastCGIError.noListener.description.hasPrefix("no socket to listen on: pass --socket PATH"))
    }

    @Test func anEmptyExplicitPathIsRejected() {
        #expect(throws: FastCGIError.socketPathEmpty) {
            try Listener.resolve(socketPath: "", environment: [:], processID: Self.ourPID, isListeningSocket: { _ in true })
        }
    }

    @Test(arguments: [
        ("2", "LISTEN_FDS=2; the responder takes exactly one socket"),
        ("three", "LISTEN_FDS=three is not a number"),
    ])
    func malformedSocketActivationIsRejected(count: String, detail: String) {
        #expect(throws: FastCGIError.invalidSocketActivation(detail: detail)) {
            try Listener.resolve(
                socketPath: nil, environment: ["LISTEN_FDS": count, "LISTEN_PID": "4242"], processID: Self.ourPID,
                isListeningSocket: { _ in true })
        }
    }
}

@Suite struct UnixSocketBinding {
    let scratch: TemporaryDirectory

    init() throws { scratch = try TemporaryDirectory(prefix: "fcgi", mode: 0o711) }

    @Test func aPathLongerThan107BytesIsRejected() throws {
        defer { scratch.remove() }
        let path = "/tmp/" + String(repeating: "s", count: 103)  // 108 bytes
        #expect(throws: FastCGIError.socketPathTooLong(path: path, bytes: 108)) {
            try Listener.unixSocket(path: path).open()
        }
        let fits = scratch.path + "/" + String(repeating: "s", count: 107 - scratch.path.utf8.count - 1)
        let socket = try Listener.unixSocket(path: fits).open()
        socket.close()
    }

    @Test func aMissingDirectoryIsRejected() throws {
        defer { scratch.remove() }
        let path = scratch.path + "/missing/fcgi.sock"
        #expect(throws: FastCGIError.socketDirectoryMissing(directory: scratch.path + "/missing")) {
            try Listener.unixSocket(path: path).open()
        }
    }

    @Test func aFileThatIsNotASocketIsLeftAlone() throws {
        defer { scratch.remove() }
        let path = scratch.path + "/precious"
        try "keep me".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: FastCGIError.socketPathOccupied(path: path)) {
            try Listener.unixSocket(path: path).open()
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "keep me")
    }

    @Test func aLiveSocketIsNotTakenOver() throws {
        defer { scratch.remove() }
        let path = scratch.path + "/live.sock"
        let first = try Listener.unixSocket(path: path).open()
        defer { first.close() }
        #expect(throws: FastCGIError.socketInUse(path: path)) {
            try Listener.unixSocket(path: path).open()
        }
        #expect(Self.connects(to: path), "the first socket must still answer")
    }

    @Test func aStaleSocketIsReplaced() throws {
        defer { scratch.remove() }
        let path = scratch.path + "/stale.sock"
        let crashed = try Listener.unixSocket(path: path).open()
        // Close without unlinking, as a killed process would.
        close(crashed.fd)
        #expect(FileManager.default.fileExists(atPath: path))
        #expect(!Self.connects(to: path))

        let replacement = try Listener.unixSocket(path: path).open()
        defer { replacement.close() }
        #expect(Self.connects(to: path))
    }

    @Test func modeAndGroupAreApplied() throws {
        defer { scratch.remove() }
        let path = scratch.path + "/mode.sock"
        let group = getegid()
        let socket = try Listener.unixSocket(path: path, mode: 0o640, group: String(group)).open()
        defer { socket.close() }
        var info = stat()
        #expect(lstat(path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o640)
        #expect(info.st_gid == group)
        #expect((info.st_mode & S_IFMT) == S_IFSOCK)
    }

    @Test func anUnknownGroupIsRejectedBeforeAnythingIsCreated() throws {
        defer { scratch.remove() }
        let path = scratch.path + "/group.sock"
        #expect(throws: FastCGIError.unknownGroup("no-such-group-pgbackup")) {
            try Listener.unixSocket(path: path, group: "no-such-group-pgbackup").open()
        }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func closingRemovesOnlyOurOwnSocketFile() throws {
        defer { scratch.remove() }
        let path = scratch.path + "/owned.sock"
        let ours = try Listener.unixSocket(path: path).open()
        ours.close()
        #expect(!FileManager.default.fileExists(atPath: path))

        let old = try Listener.unixSocket(path: path).open()
        unlink(path)  // someone else took the path over meanwhile
        let newer = try Listener.unixSocket(path: path).open()
        defer { newer.close() }
        old.close()
        #expect(FileManager.default.fileExists(atPath: path), "closing the old socket must not remove the new one")
        #expect(Self.connects(to: path))
    }

    static func connects(to path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return UnixSocketBinder.withSocketAddress(path) { connect(fd, $0, $1) } == 0
    }
}
