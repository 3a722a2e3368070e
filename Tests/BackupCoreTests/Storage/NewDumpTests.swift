import Foundation
import TestSupport
import Testing

@testable import BackupCore
import TestSupport

/// The local store's side of a create: a new dump in `.partial/`, committed into place with its sidecar, or gone.
@Suite("BackupStore: new dumps, commit and removal")
struct NewDumpTests {
    static let name = "backup_db_20260129_120000.sql.gz"

    static func metadata(_ size: Int) -> BackupMetadata {
        BackupMetadata(filename: name, createdAt: Date(timeIntervalSince1970: 1_769_688_000), database: "db",
                       sizeBytes: Int64(size), description: "test", sha256: String(repeating: "a", count: 64),
                       kind: .manual, formatVersion: 1)
    }

    static func prepared() throws -> (TemporaryDirectory, BackupStore) {
        let dir = try TemporaryDirectory()
        let store = BackupStore(directory: dir.path)
        try store.prepare()
        return (dir, store)
    }

    static func visible(_ dir: TemporaryDirectory) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { !$0.hasPrefix(".") }.sorted()
    }

    static func partials(_ store: BackupStore) throws -> [String] { try FileSystem.list(store.partialDirectory) }

    @Test("a new dump is written in .partial/ and listed nowhere until committed")
    func invisibleUntilCommitted() throws {
        let (dir, store) = try Self.prepared()
        let dump = try store.newDump(Self.name)
        try StageRun.feed(Array("hello".utf8), to: dump)
        #expect(try Self.partials(store) == [Self.name])
        #expect(try Self.visible(dir).isEmpty)
        #expect(store.isTaken(Self.name))
        #expect(try store.listing().backups.isEmpty)
    }

    @Test("commit puts the dump in place with its sidecar, and the listing has the backup")
    func commit() throws {
        let (dir, store) = try Self.prepared()
        let bytes = DumpText.make(bytes: 20 * 1024 * 1024, seed: 61)  // past a few 8 MiB writeback steps
        let dump = try store.newDump(Self.name)
        try StageRun.feed(bytes, to: dump, pieces: [1 << 20])
        var sidecarMadeAfterRename = false
        let metadata = try dump.commit {
            sidecarMadeAfterRename = FileManager.default.fileExists(atPath: store.dumpPath(Self.name))
            return Self.metadata(bytes.count)
        }
        #expect(sidecarMadeAfterRename)
        #expect(metadata == Self.metadata(bytes.count))
        #expect(try Self.visible(dir) == [Self.name, Self.name + ".json"])
        #expect(try Self.partials(store).isEmpty)
        #expect(try store.listing().backups == [Self.metadata(bytes.count)])
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: store.dumpPath(Self.name)))) == bytes)
        let sidecar = try String(contentsOfFile: store.sidecarPath(Self.name), encoding: .utf8)
        #expect(sidecar == Self.metadata(bytes.count).json.serialized(pretty: true))
        dump.discard()
        #expect(try Self.visible(dir) == [Self.name, Self.name + ".json"], "discard after commit changes nothing")
    }

    @Test("discarding, or dropping it uncommitted, removes the partial file")
    func discard() throws {
        let (dir, store) = try Self.prepared()
        let dump = try store.newDump(Self.name)
        try StageRun.feed(Array("hello".utf8), to: dump)
        dump.discard()
        #expect(try Self.partials(store).isEmpty)
        do {
            let dropped = try store.newDump("backup_db_20260129_120001.sql.gz")
            try dropped.write(UnsafeRawBufferPointer(start: nil, count: 0))
        }
        #expect(try Self.partials(store).isEmpty)
        #expect(try Self.visible(dir).isEmpty)
    }

    @Test("a sidecar that cannot be made leaves no dump behind")
    func sidecarFailureRemovesTheDump() throws {
        let (dir, store) = try Self.prepared()
        let dump = try store.newDump(Self.name)
        try StageRun.feed(Array("hello".utf8), to: dump)
        struct NoSidecar: Error {}
        #expect(throws: NoSidecar.self) { _ = try dump.commit { throw NoSidecar() } }
        #expect(try Self.visible(dir).isEmpty)
        #expect(try Self.partials(store).isEmpty)
    }

    @Test("a rename that fails names the final path and leaves nothing once discarded")
    func renameFailure() throws {
        let (dir, store) = try Self.prepared()
        try FileManager.default.createDirectory(atPath: store.dumpPath(Self.name) + "/inside", withIntermediateDirectories: true)
        let dump = try store.newDump(Self.name)
        try StageRun.feed(Array("hello".utf8), to: dump)
        #expect(throws: BackupError.io(path: store.dumpPath(Self.name), message: "Is a directory")) {
            _ = try dump.commit { Self.metadata(5) }
        }
        dump.discard()
        #expect(try Self.partials(store).isEmpty)
        #expect(try Self.visible(dir) == [Self.name])
        #expect(!FileManager.default.fileExists(atPath: store.sidecarPath(Self.name)))
    }

    @Test("a name already in .partial/ is refused: nothing is overwritten")
    func existingPartial() throws {
        let (dir, store) = try Self.prepared()
        try dir.write(".partial/\(Self.name)", [1, 2, 3])
        #expect(throws: BackupError.io(path: "\(store.partialDirectory)/\(Self.name)", message: "File exists")) {
            _ = try store.newDump(Self.name)
        }
    }

    @Test("remove takes the sidecar, then the dump, and tolerates either being gone")
    func remove() throws {
        let (dir, store) = try Self.prepared()
        try dir.write(Self.name, [1])
        try dir.write(Self.name + ".json", "{}")
        try dir.write("backup_db_20260129_130000.sql.gz", [1])  // an orphan: no sidecar
        try store.remove([Self.name, "backup_db_20260129_130000.sql.gz", "backup_db_20260129_140000.sql.gz"])
        #expect(try Self.visible(dir).isEmpty)
        try store.remove([])
    }

    @Test("a dump that cannot be removed is an error naming it, after its sidecar went")
    func removeFailure() throws {
        let (dir, store) = try Self.prepared()
        try FileManager.default.createDirectory(atPath: store.dumpPath(Self.name) + "/inside", withIntermediateDirectories: true)
        try dir.write(Self.name + ".json", "{}")
        #expect(throws: BackupError.io(path: store.dumpPath(Self.name), message: "Is a directory")) {
            try store.remove([Self.name])
        }
        #expect(try Self.visible(dir) == [Self.name])
    }

    @Test("openDump gives the bytes and the size; a missing dump or a symlink is an I/O error")
    func openDump() throws {
        let (dir, store) = try Self.prepared()
        try dir.write(Self.name, Array("0123456789".utf8))
        let dump = try store.openDump(Self.name)
        #expect(dump.size == 10)
        let sink = CollectingStage()
        try dump.source.pump(into: sink)
        #expect(sink.bytes == Array("0123456789".utf8))
        let missing = "backup_db_20200101_000000.sql.gz"
        #expect(throws: BackupError.io(path: store.dumpPath(missing), message: "No such file or directory")) {
            _ = try store.openDump(missing)
        }
        let link = "backup_db_20260129_130000.sql.gz"
        try FileManager.default.createSymbolicLink(atPath: store.dumpPath(link), withDestinationPath: store.dumpPath(Self.name))
        #expect(throws: BackupError.io(path: store.dumpPath(link), message: "Too many levels of symbolic links")) {
            _ = try store.openDump(link)
        }
    }

    @Test("exists, dumpSize and readSidecar see what is stored")
    func objects() throws {
        let (dir, store) = try Self.prepared()
        try dir.write(Self.name, Array("abc".utf8))
        try dir.write(Self.name + ".json", "{}")
        #expect(store.hasDump(Self.name) && store.hasSidecar(Self.name))
        #expect(store.dumpSize(Self.name) == 3)
        #expect(try store.readSidecar(Self.name) == Array("{}".utf8))
        #expect(try store.readSidecar("backup_db_20200101_000000.sql.gz") == nil)
        #expect(!store.hasDump("backup_db_20200101_000000.sql.gz"))
        #expect(Set(try store.names()) == [Self.name, Self.name + ".json", ".partial", ".jobs"])
        #expect(try BackupStore(directory: dir.file("missing")).names().isEmpty)
    }
}
