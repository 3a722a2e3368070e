import Foundation
import TestSupport
import Testing

/// The password reaches PostgreSQL and nothing else: no file, no output, no command line.
@Suite("CLI: password handling", .serialized, .postgresCluster)
final class CLIPasswordTests {
    let ctx: CLITestContext

    init() throws { ctx = try CLITestContext() }
    deinit { ctx.remove() }

    private func passwordFile(_ content: String) throws -> URL {
        let file = ctx.scratch.appending("db-password")
        try Data(content.utf8).write(to: file)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
        return file
    }

    private var passwordEnvironment: [String: String] {
        get throws {
            ["POSTGRES_USER": PostgresCluster.passwordUser,
             "POSTGRES_PASSWORD_FILE": try passwordFile(ctx.cluster.password + "\n").path]
        }
    }

    private func expectNotInAnyFile(_ secret: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let needle = Data(secret.utf8)
        let files = FileTools.allFiles(under: ctx.backupDir)
        #expect(!files.isEmpty, sourceLocation: sourceLocation)
        for file in files {
            let bytes = try Data(contentsOf: file)
            #expect(bytes.range(of: needle) == nil, "\(file.path) contains the password", sourceLocation: sourceLocation)
            if file.lastPathComponent.hasSuffix(".sql.gz") {
                #expect(try BackupFiles.gunzip(file).range(of: needle) == nil, "\(file.path) (decompressed) contains the password",
                        sourceLocation: sourceLocation)
            }
        }
    }

    /// Runs a pgbackup command while sampling every command line on the machine.
    private func runSampled(_ arguments: [String], database: String, env: [String: String], lockSeconds: Int = 2)
        throws -> (result: ProcessResult, leaks: [String], programs: Set<String>)
    {
        // Holding a table lock keeps pg_dump alive long enough for the sampler to see it many times.
        let tableLock = try ctx.cluster.holdTableLock("orders", in: database, seconds: lockSeconds)
        defer { tableLock.release() }
        let sampler = CommandLineSampler(secret: ctx.cluster.password)
        let result = try ctx.pgbackup(arguments, database: database, env: env)
        let seen = sampler.stop()
        return (result, seen.leaks, seen.programs)
    }

    @Test func createAndRestoreWithAPasswordFileNeverExposeThePassword() throws {
        let db = try ctx.sampleDatabase("password")
        let env = try passwordEnvironment
        let create = try runSampled(["create", "-d", "with a password", "--json"], database: db, env: env)
        try #require(create.result.status == 0, "\(create.result)")
        #expect(create.programs.contains("pg_dump"), "the sampler never saw pg_dump running, so it proved nothing")
        #expect(create.leaks.isEmpty, "password on a command line: \(create.leaks)")
        #expect(!create.result.combined.contains(ctx.cluster.password))
        let name = try #require(try JSON.object(create.result.stdout)["backup"] as? [String: Any])["filename"] as? String
        let backup = try #require(name)

        try ctx.cluster.psql("UPDATE canary SET value = 'changed'", database: db)
        // restore with the safety backup: pg_dump and psql both run as pwuser.
        let restore = try runSampled(["restore", backup, "--yes", "--json"], database: db, env: env)
        try #require(restore.result.status == 0, "\(restore.result)")
        #expect(restore.programs.contains("pg_dump"))
        #expect(restore.leaks.isEmpty, "password on a command line: \(restore.leaks)")
        #expect(!restore.result.combined.contains(ctx.cluster.password))
        #expect(try ctx.cluster.psql("SELECT value FROM canary", database: db) == SampleSchema.canaryValue)

        let list = try ctx.pgbackup(["list", "--json"], database: db, env: env)
        let status = try ctx.pgbackup(["status", "--json"], database: db, env: env)
        let verify = try ctx.pgbackup(["verify", backup], database: db, env: env)
        for result in [list, status, verify] {
            #expect(result.status == 0, "\(result)")
            #expect(!result.combined.contains(ctx.cluster.password))
        }
        #expect(ctx.dumpFiles().count == 2)
        try expectNotInAnyFile(ctx.cluster.password)
    }

    @Test func passwordFromTheEnvironmentVariableWorksToo() throws {
        let db = try ctx.sampleDatabase("pwenv")
        let env = ["POSTGRES_USER": PostgresCluster.passwordUser, "POSTGRES_PASSWORD": ctx.cluster.password]
        let create = try runSampled(["create"], database: db, env: env)
        #expect(create.result.status == 0, "\(create.result)")
        #expect(create.programs.contains("pg_dump"))
        #expect(create.leaks.isEmpty, "password on a command line: \(create.leaks)")
        #expect(!create.result.combined.contains(ctx.cluster.password))
        try expectNotInAnyFile(ctx.cluster.password)
    }

    @Test func wrongPasswordFailsWithoutRepeatingIt() throws {
        let db = try ctx.sampleDatabase("pwwrong")
        let wrong = "wrong:\(UUID().uuidString)"
        let env = ["POSTGRES_USER": PostgresCluster.passwordUser, "POSTGRES_PASSWORD_FILE": try passwordFile(wrong).path]
        let result = try ctx.pgbackup(["create", "--json"], database: db, env: env)
        #expect(result.status == 1, "\(result)")
        #expect(result.err.contains("password authentication failed"), "\(result.err)")
        #expect(!result.combined.contains(wrong))
        #expect(ctx.dumpFiles().isEmpty)
        let status = try ctx.status(db)
        let message = (status["last_failure"] as? [String: Any])?["message"] as? String ?? ""
        #expect(message.contains("password authentication failed"))
        #expect(!message.contains(wrong))
        for file in FileTools.allFiles(under: ctx.backupDir) {
            #expect(try Data(contentsOf: file).range(of: Data(wrong.utf8)) == nil, "\(file.path) holds the wrong password")
        }
    }

    @Test func missingPasswordIsRefusedByTheServer() throws {
        // Proves the role really needs its password, so the tests above prove the password was used.
        let db = try ctx.sampleDatabase("pwnone")
        let result = try ctx.pgbackup(["create"], database: db, env: ["POSTGRES_USER": PostgresCluster.passwordUser])
        #expect(result.status == 1, "\(result)")
        #expect(result.err.contains("password"), "\(result.err)")
        #expect(ctx.dumpFiles().isEmpty)
    }
}
