import Foundation
import TestSupport
import Testing

@testable import BackupCore

@Suite("BackupLock")
struct BackupLockTests {
    static let since = Date(timeIntervalSince1970: 1_769_697_022.5)

    @Test("a second acquire fails with operationInProgress naming the holder's operation and pid")
    func secondAcquireFails() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file(".lock")
        let lock = try BackupLock.acquire(path: path, operation: "restore", now: Self.since)
        try withExtendedLifetime(lock) {
            let expected = LockHolder(operation: "restore", pid: getpid(), since: Self.since)
            #expect(BackupLock.holder(path: path) == expected)
            #expect(throws: BackupError.operationInProgress(expected)) {
                try BackupLock.acquire(path: path, operation: "create", now: Self.since)
            }
            do {
                _ = try BackupLock.acquire(path: path, operation: "create", now: Self.since)
            } catch let error as BackupError {
                #expect(error.description
                    == "another operation is running: restore (pid \(getpid()), since 2026-01-29T14:30:22.500000Z)")
            }
        }
    }

    @Test("the holder is nil after release, and the lock can be taken again")
    func releasedLock() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file(".lock")
        do {
            let lock = try BackupLock.acquire(path: path, operation: "delete", now: Self.since)
            withExtendedLifetime(lock) { #expect(BackupLock.holder(path: path)?.operation == "delete") }
        }
        #expect(BackupLock.holder(path: path) == nil)
        let again = try BackupLock.acquire(path: path, operation: "cleanup", now: Self.since)
        withExtendedLifetime(again) { #expect(BackupLock.holder(path: path)?.operation == "cleanup") }
    }

    @Test("no lock file means no holder")
    func noFile() throws {
        let dir = try TemporaryDirectory()
        #expect(BackupLock.holder(path: dir.file(".lock")) == nil)
    }

    @Test("the lock file is 0600")
    func lockFileMode() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file(".lock")
        let lock = try BackupLock.acquire(path: path, operation: "create", now: Self.since)
        withExtendedLifetime(lock) {
            var info = stat()
            #expect(stat(path, &info) == 0)
            #expect(info.st_mode & 0o777 == 0o600)
        }
    }

    @Test("a held lock whose file does not say who holds it reports an unknown holder")
    func unreadableHolder() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file(".lock")
        let lock = try BackupLock.acquire(path: path, operation: "create", now: Self.since)
        try withExtendedLifetime(lock) {
            // Overwrite the content in place (same inode, so the flock stays).
            let handle = try #require(FileHandle(forWritingAtPath: path))
            try handle.truncate(atOffset: 0)
            try handle.write(contentsOf: Data("garbage".utf8))
            try handle.close()
            #expect(BackupLock.holder(path: path) == LockHolder(operation: "unknown", pid: 0, since: Date(timeIntervalSince1970: 0)))
        }
    }

    @Test("a symlink at the lock path is refused")
    func symlinkRefused() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file(".lock")
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: dir.file("elsewhere"))
        #expect(throws: BackupError.self) { try BackupLock.acquire(path: path, operation: "create", now: Self.since) }
        #expect(!FileManager.default.fileExists(atPath: dir.file("elsewhere")))
    }

    @Test("the holder's JSON")
    func holderJSON() {
        let holder = LockHolder(operation: "create", pid: 42, since: Self.since)
        #expect(holder.json.serialized() == #"{"operation":"create","since":"2026-01-29T14:30:22.500000Z","pid":42}"#)
    }

    // A bug found while testing: holder() used to probe with flock(LOCK_SH), which for a moment locks the file
    // itself, so a `status` or `list` at the same instant made a create/restore/delete fail as busy with no
    // holder. holder() now only asks (fcntl F_OFD_GETLK, which takes nothing); this keeps asking in a loop while
    // this thread acquires and releases, and no acquire may fail.
    @Test("looking at the holder never makes an acquire fail")
    func probeDoesNotBlockAcquire() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file(".lock")
        let stop = StopFlag(deadline: Date().addingTimeInterval(1.5))
        let done = DispatchSemaphore(value: 0)
        let prober = Thread {
            while !stop.isSet { _ = BackupLock.holder(path: path) }
            done.signal()
        }
        withExtendedLifetime(try BackupLock.acquire(path: path, operation: "create", now: Self.since)) {}
        prober.start()
        var attempts = 0
        var firstSpurious: String?
        while !stop.isSet, firstSpurious == nil {
            attempts += 1
            do {
                let lock = try BackupLock.acquire(path: path, operation: "create", now: Self.since)
                withExtendedLifetime(lock) {}
            } catch {
                firstSpurious = "\(error)"
            }
        }
        stop.set()
        done.wait()
        #expect(attempts > 100 || firstSpurious != nil)
        #expect(firstSpurious == nil, "acquire number \(attempts) failed while nobody held the lock")
    }
}

/// A flag one thread sets and another polls; it also sets itself at a deadline.
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    private let deadline: Date

    init(deadline: Date) { self.deadline = deadline }

    var isSet: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped || Date() >= deadline
    }

    func set() {
        lock.lock()
        stopped = true
        lock.unlock()
    }
}
