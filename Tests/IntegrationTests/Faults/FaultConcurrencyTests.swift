import Foundation
import TestSupport
import Testing

extension FaultSuite {
    /// Ten creates at once from every front end: one runs, the others are told it is busy.
    @Suite("concurrent creates from API, CLI and scheduler", .serialized, .postgresCluster)
    final class ConcurrencyTests {
        let ctx: CLITestContext

        init() throws { ctx = try CLITestContext() }
        deinit { ctx.remove() }

        /// What one of the ten contenders got.
        enum Outcome: CustomStringConvertible {
            case api(HTTPReply)
            case process(String, ProcessResult)
            case setupError(String)

            var won: Bool {
                switch self {
                case let .api(reply): reply.status == 201
                case let .process(_, result): result.status == 0
                case .setupError: false
                }
            }

            var description: String {
                switch self {
                case let .api(reply): "API: \(reply)"
                case let .process(what, result): "\(what): \(result)"
                case let .setupError(message): message
                }
            }
        }

        @Test(arguments: 1...2)
        func tenCreatesAtOnceRunExactlyOnePgDump(round: Int) throws {
            let db = try ctx.sampleCopy("race\(round)")
            let stack = try FaultHTTPStack(environment: ctx.environment(database: db))
            defer { stack.stop() }
            let invariants = ctx.invariants(db)
            let older = try ctx.create(db, description: "before the race")
            let before = try invariants.check()
            // Whoever wins waits for this lock inside pg_dump, so all ten surely overlap.
            let locker = try ctx.cluster.holdTableLock("orders", in: db, seconds: 5)
            defer { locker.release() }

            let outcomes = OutcomeBox()
            let group = DispatchGroup()
            for index in 0..<4 {
                group.enter()
                Thread {
                    defer { group.leave() }
                    do {
                        outcomes.append(.api(try stack.request("POST", "/api/backups", json: #"{"description": "api \#(index)"}"#)))
                    } catch {
                        outcomes.append(.setupError("API request \(index): \(error)"))
                    }
                }.start()
            }
            var processes: [(String, RunningProcess)] = []
            for index in 0..<4 {
                processes.append(("CLI \(index)", try ctx.startPgbackup(["create", "-d", "cli \(index)"], database: db)))
            }
            for index in 0..<2 {
                processes.append(("scheduler \(index)", try ctx.startScheduler(database: db)))
            }

            // Sample how many pg_dump processes work on this database while anyone is still running.
            var mostDumps = 0
            var sawOne = false
            repeat {
                let dumps = FaultProc.postgresClients("pg_dump", database: db).count
                mostDumps = max(mostDumps, dumps)
                sawOne = sawOne || dumps == 1
                usleep(5_000)
            } while processes.contains { $0.1.isRunning } || group.wait(timeout: .now()) == .timedOut
            for (what, process) in processes { outcomes.append(.process(what, process.wait(timeout: .seconds(60)))) }

            let all = outcomes.values
            #expect(all.count == 10)
            #expect(sawOne, "no pg_dump was seen running")
            #expect(mostDumps == 1, "at most one pg_dump may run at a time, saw \(mostDumps)")
            let winners = all.filter(\.won)
            #expect(winners.count == 1, "exactly one create must win: \(all)")
            for outcome in all where !outcome.won {
                switch outcome {
                case let .api(reply):
                    #expect(reply.status == 409, "\(reply)")
                    let body = try reply.json()
                    #expect(body["error"] as? String == "operation_in_progress")
                    #expect((body["detail"] as? String)?.contains("create") == true, "the 409 must say what runs: \(body)")
                case let .process(what, result):
                    #expect(result.status == 3, "\(what) must exit 3 (busy): \(result)")
                    #expect(result.err.contains("another operation is running: create"), "\(what): \(result.err)")
                case let .setupError(message):
                    Issue.record("\(message)")
                }
            }

            let after = try invariants.check(unchanged: before)
            #expect(after.count == 2, "the old backup and exactly one new one: \(after.keys.sorted())")
            #expect(after[older] != nil)
        }
    }
}

/// Outcomes collected from several threads.
private final class OutcomeBox: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [FaultSuite.ConcurrencyTests.Outcome] = []

    func append(_ outcome: FaultSuite.ConcurrencyTests.Outcome) { lock.withLock { items.append(outcome) } }
    var values: [FaultSuite.ConcurrencyTests.Outcome] { lock.withLock { items } }
}
