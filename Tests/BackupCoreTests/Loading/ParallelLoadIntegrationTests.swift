import Foundation
import Logging
import TestSupport
import Testing

@testable import BackupCore

/// `LoadOperation` with 1 and with 4 sessions against a real PostgreSQL: both loads of one backup dump alike (the
/// normalised plain dump) and count the same rows as the source; a psql error mid-data leaves no psql behind.
/// (Here rather than in IntegrationTests, whose binaries drop the loaded database: this keeps it to compare.)
@Suite("ParallelLoadIntegrationTests", .serialized)
final class ParallelLoadIntegrationTests {
    let cluster: PostgresCluster
    let directory: TemporaryDirectory

    init() throws {
        cluster = try PostgresCluster.start()
        directory = try TemporaryDirectory(prefix: "pload")
    }

    deinit {
        cluster.destroy()
        directory.remove()
    }

    /// Quoted names, a partitioned table, a large object, a matview, a trigger, a foreign key, an index attach,
    /// a sequence, and one table big enough to be cut into several COPY chunks.
    static let fixture = #"""
        CREATE SCHEMA "Odd Schema";
        CREATE TABLE "Odd Schema"."Mixed Case" ("Id" int PRIMARY KEY, "some name" text);
        INSERT INTO "Odd Schema"."Mixed Case" VALUES (1, E'line\nbreak \\. tab\t');
        CREATE TABLE measurements (at date NOT NULL, v int, PRIMARY KEY (at)) PARTITION BY RANGE (at);
        CREATE TABLE measurements_2025 PARTITION OF measurements FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
        CREATE TABLE measurements_2026 PARTITION OF measurements FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
        CREATE INDEX measurements_v ON measurements (v);
        INSERT INTO measurements SELECT DATE '2025-01-01' + g, g FROM generate_series(0, 499) g;
        CREATE TABLE customers (id serial PRIMARY KEY, name text UNIQUE, note text);
        INSERT INTO customers (name, note) SELECT 'c' || g, repeat(md5(g::text), 4) FROM generate_series(1, 120000) g;
        CREATE INDEX customers_note ON customers (note);
        CREATE TABLE orders (id int PRIMARY KEY, customer int REFERENCES customers (id), amount numeric);
        INSERT INTO orders SELECT g, 1 + g % 1000, g * 1.5 FROM generate_series(1, 5000) g;
        CREATE MATERIALIZED VIEW order_totals AS SELECT customer, sum(amount) AS total FROM orders GROUP BY customer;
        CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.note := 'x'; RETURN NEW; END $$;
        CREATE TRIGGER customers_stamp BEFORE INSERT ON customers FOR EACH ROW EXECUTE FUNCTION stamp();
        CREATE TABLE attachments (id int PRIMARY KEY, data oid);
        INSERT INTO attachments VALUES (1, lo_from_bytea(0, '\x00ff00'::bytea));
        """#

    func manager(_ database: String) throws -> BackupManager {
        var values = cluster.environment(database: database)
        values["BACKUP_DIR"] = directory.path
        let (configuration, _) = try Configuration.parse(values)
        return BackupManager(configuration: configuration, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    func load(_ metadata: BackupMetadata, with manager: BackupManager, jobs: Int, into database: String) throws {
        try cluster.psql("CREATE DATABASE \(database) TEMPLATE template0")
        var load = LoadOperation(storage: manager.store, tools: manager.tools)
        load.jobs = jobs
        try load.run(metadata, into: database, serverVersion: try manager.tools.serverVersion(database: database).number,
                     progress: nil)
    }

    /// The lines only one of the two dumps has (at most 20 of each).
    static func difference(_ expected: String, _ actual: String) -> String {
        let left = expected.split(separator: "\n"), right = actual.split(separator: "\n")
        let leftSet = Set(left), rightSet = Set(right)
        let missing = left.filter { !rightSet.contains($0) }.prefix(20)
        let extra = right.filter { !leftSet.contains($0) }.prefix(20)
        return "missing \(missing.joined(separator: " | ")); extra \(extra.joined(separator: " | "))"
    }

    /// The dump with the rows of each COPY block sorted.
    static func rowsSorted(_ dump: String) -> String {
        var lines: [Substring] = [], rows: [Substring] = []
        var inCopy = false
        for line in dump.split(separator: "\n", omittingEmptySubsequences: false) {
            if inCopy, line == "\\." {
                lines += rows.sorted()
                rows.removeAll()
                inCopy = false
            } else if inCopy {
                rows.append(line)
                continue
            } else if line.hasPrefix("COPY "), line.hasSuffix(" FROM stdin;") {
                inCopy = true
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    static func normalised(_ dump: String) -> String {
        dump.split(separator: "\n").filter { line in
            !line.isEmpty && !line.hasPrefix("--") && !line.hasPrefix("\\restrict") && !line.hasPrefix("\\unrestrict")
        }.joined(separator: "\n")
    }

    @Test func oneAndFourSessionsLoadTheSameDatabase() throws {
        try cluster.psql("CREATE DATABASE source")
        try cluster.psql(Self.fixture, database: "source")
        let manager = try manager("source")
        let metadata = try manager.create().backup
        let expected = Self.normalised(try cluster.dump("source"))
        let counts = try manager.tools.rowCounts(database: "source")
        #expect(counts["public.customers"] == 120_000 && counts["public.measurements_2026"] == 135)
        for jobs in [1, 4] {
            try load(metadata, with: manager, jobs: jobs, into: "loaded_\(jobs)")
            let dump = Self.normalised(try cluster.dump("loaded_\(jobs)"))
            // Chunks of one table load side by side, so its rows may sit in another physical order (as after any
            // UPDATE): with several sessions the rows of each COPY are compared as sets.
            let (left, right) = jobs == 1 ? (expected, dump) : (Self.rowsSorted(expected), Self.rowsSorted(dump))
            #expect(left == right, "jobs \(jobs): the normalised dumps differ: \(Self.difference(left, right))")
            #expect(try manager.tools.rowCounts(database: "loaded_\(jobs)") == counts, "jobs \(jobs)")
            let object = try cluster.psql("SELECT encode(lo_get(data), 'hex') FROM attachments", database: "loaded_\(jobs)")
            #expect(object == "00ff00")
            let refreshed = try cluster.psql("SELECT count(*) FROM order_totals", database: "loaded_\(jobs)")
            #expect(refreshed == "1000", "the matview was refreshed after the data")
        }
    }

    @Test func aPsqlErrorMidDataStopsEverySession() throws {
        try cluster.psql("CREATE DATABASE broken")
        try cluster.psql("""
            CREATE FUNCTION ok(v int) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT true';
            CREATE TABLE early (id int, a text);
            INSERT INTO early SELECT g, md5(g::text) FROM generate_series(1, 100000) g;
            CREATE TABLE guarded (v int CHECK (ok(v)));
            INSERT INTO guarded SELECT generate_series(1, 300000);
            CREATE TABLE late (id int, a text);
            INSERT INTO late SELECT g, md5(g::text) FROM generate_series(1, 100000) g;
            CREATE OR REPLACE FUNCTION ok(v int) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS
              $$ BEGIN IF v = 150000 THEN RAISE EXCEPTION 'row % refused', v; END IF; RETURN true; END $$;
            """, database: "broken")
        let manager = try manager("broken")
        let metadata = try manager.create().backup
        #expect(throws: BackupError.self) {
            do {
                try self.load(metadata, with: manager, jobs: 4, into: "broken_load")
            } catch let BackupError.restoreFailed(message) {
                #expect(message.contains("row 150000 refused"), "\(message)")
                throw BackupError.restoreFailed(message)
            }
        }
        #expect(Self.childPsqls().isEmpty, "every psql of the load was reaped")
        let sessions = try cluster.psql("SELECT count(*) FROM pg_stat_activity WHERE datname = 'broken_load'")
        #expect(sessions == "0")
    }

    /// Children of this process that are a load's psql (running or not yet reaped).
    static func childPsqls() -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.filter { Int($0) != nil }.compactMap { pid -> String? in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
            guard fields.count > 1, Int32(fields[1]) == getpid(), stat.contains("(psql)") else { return nil }
            // Other suites' helpers run psql with `-f -`; the load's sessions read their stdin without it.
            let arguments = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
            return arguments.split(separator: "\0").contains("-f") ? nil : pid
        }
    }
}
