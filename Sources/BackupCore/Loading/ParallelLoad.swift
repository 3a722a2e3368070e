import Foundation

/// `LoadOperation` on several connections (`jobs` > 1): the dump is cut as it streams (`DumpSplitter`) into
/// `jobs` psql sessions on the new database, each with the same preamble and ON_ERROR_STOP: the schema in
/// order on the first, then every table's rows spread over all of them, then indexes and key constraints in
/// parallel, then the rest in order (`DumpPhases`). The server works on several cores at once.
///
/// It returns only once every session ran everything, the dump's trailer was seen (`BackupReader`), and every
/// psql exited 0. When any psql stops, all of them are stopped and reaped, and its (redacted) message is thrown;
/// the caller drops the half-loaded database.
struct ParallelLoad {
    let load: LoadOperation
    let jobs: Int

    func run(_ metadata: BackupMetadata, into database: String, serverVersion: Int, progress: ProgressHandler?) throws {
        let (lockTimeout, preamble) = PsqlSession.settings(load.tools, serverVersion: serverVersion)
        var sessions: [PsqlSession] = []
        defer { sessions.forEach { $0.stop() } }
        for _ in 0..<jobs {
            sessions.append(try PsqlSession.start(load.tools.restoreCommand(database: database), preamble: preamble))
        }
        var lanes: PsqlLanes?
        do {
            let psqlLanes = try PsqlLanes(sessions)
            lanes = psqlLanes
            let splitter = DumpSplitter(lanes: psqlLanes)
            let filter = RestoreFilterStage(lockTimeoutLine: Array(lockTimeout.utf8), keepingTransactions: true,
                                            next: splitter)
            _ = try BackupReader(storage: load.storage, identity: load.identity, age: load.age)
                .read(metadata, progress: progress, into: filter, storedBytesChecked: metadata.sha256 != nil)
            try psqlLanes.barrier()
        } catch {
            // A psql that stopped is the cause (not the closed pipe it left); anything else is thrown as it is.
            guard let failed = lanes?.failedLane else { throw error }
            throw failure(of: sessions[failed], stopping: sessions)
        }
        let statuses = sessions.map { $0.finish() }
        if let failed = statuses.firstIndex(where: { $0 != 0 }) { throw failure(of: sessions[failed], stopping: sessions) }
        try Interruption.shared.check("restore")
    }

    /// Stops every other session (the failed one has exited, or is stopped too) and says why `session` failed.
    private func failure(of session: PsqlSession, stopping all: [PsqlSession]) -> Error {
        for other in all where other !== session { other.stop() }
        let status = session.finish()
        let message = load.tools.redact(session.child.stderrText().trimmingCharacters(in: .whitespacesAndNewlines))
        return BackupError.restoreFailed(message.isEmpty ? "psql \(ChildProcess.describe(status))" : message)
    }
}
