/// Where each of pg_dump's TOC entries goes in a parallel load, from its `-- Name: …; Type: …;` comment, and when
/// the lanes must all catch up first (a barrier). pg_dump writes its entries in dependency order, by section:
///
/// - pre-data (schemas, types, functions, tables, sequences…), everything before the first TABLE DATA: in order,
///   on lane 0;
/// - data: each table's rows on any lane (in chunks, see `DumpSplitter`), sequence values and large objects on
///   lane 0 in order; a barrier before it (the tables exist) and after it (every row is in);
/// - post-data: indexes and PRIMARY KEY/UNIQUE/EXCLUDE constraints in parallel, each placed by
///   `PostDataScheduler` once its statement says which table; at the first entry of any other kind (a foreign key needs its unique index, a trigger or a matview refresh needs the
///   data, an index attach needs both indexes) a barrier, and the rest in order on lane 0.
struct DumpPhases {
    enum Phase: Equatable { case preamble, preData, data, postParallel, serial }

    /// How an entry is placed.
    enum Placement: Equatable {
        /// On lane 0, in order.
        case ordered
        /// Rows: on whichever lane is least busy.
        case rows
        /// Where `PostDataScheduler` puts it, once its statement's line says which table.
        case byTable
    }

    private(set) var phase = Phase.preamble

    private static let dataTypes: Set<String> = [
        "SEQUENCE SET", "BLOBS", "BLOB DATA", "LARGE OBJECTS", "LARGE OBJECT",
    ]
    private static let parallelPostData: Set<String> = ["INDEX", "CONSTRAINT"]

    /// The next entry is of `type`: whether the lanes must all catch up before it, and where it goes.
    mutating func entry(_ type: String) -> (barrier: Bool, placement: Placement) {
        switch phase {
        case .preamble, .preData:
            guard type == "TABLE DATA" else {
                phase = .preData
                return (false, .ordered)
            }
            phase = .data
            return (true, .rows)
        case .data:
            if type == "TABLE DATA" { return (false, .rows) }
            if Self.dataTypes.contains(type) { return (false, .ordered) }
            phase = Self.parallelPostData.contains(type) ? .postParallel : .serial
            return (true, phase == .serial ? .ordered : .byTable)
        case .postParallel:
            if Self.parallelPostData.contains(type) { return (false, .byTable) }
            phase = .serial
            return (true, .ordered)
        case .serial:
            return (false, .ordered)
        }
    }

    /// An entry could not be placed by table: it and everything after it go in order (after a barrier).
    mutating func serialFromHere() { phase = .serial }
}

/// The table an index or constraint entry's first statement line works on: `CREATE [UNIQUE] INDEX name ON [ONLY]
/// table …` or `ALTER TABLE [ONLY] table` (pg_dump puts `ADD CONSTRAINT …` on the next line). Quoted names may hold
/// spaces, dots and doubled quotes; the name is returned as written (`public."Mixed Case"`).
enum IndexTarget {
    /// The table of `COPY table [(columns)] FROM stdin;`, as written.
    static func table(ofCopy statement: String) -> String? {
        var scanner = Scanner(Substring(statement))
        guard scanner.keyword("COPY") else { return nil }
        return scanner.qualifiedName()
    }

    static func table(of statement: String) -> String? {
        var scanner = Scanner(Substring(statement))
        if scanner.keyword("CREATE") {
            _ = scanner.keyword("UNIQUE")
            guard scanner.keyword("INDEX"), scanner.identifier() != nil, scanner.keyword("ON") else { return nil }
        } else {
            guard scanner.keyword("ALTER"), scanner.keyword("TABLE") else { return nil }
        }
        _ = scanner.keyword("ONLY")
        return scanner.qualifiedName()
    }

    private struct Scanner {
        var rest: Substring

        init(_ text: Substring) { rest = text }

        mutating func skipSpaces() { rest = rest.drop { $0 == " " } }

        mutating func keyword(_ word: String) -> Bool {
            skipSpaces()
            guard rest.hasPrefix(word) else { return false }
            let after = rest.dropFirst(word.count)
            guard after.isEmpty || after.first == " " else { return false }
            rest = after
            return true
        }

        /// One name: `"…"` (a doubled quote inside) or a bare word up to a space, dot or parenthesis.
        mutating func identifier() -> Substring? {
            skipSpaces()
            let start = rest.startIndex
            if rest.first == "\"" {
                var index = rest.index(after: start)
                while index < rest.endIndex {
                    if rest[index] == "\"" {
                        let next = rest.index(after: index)
                        if next < rest.endIndex, rest[next] == "\"" {
                            index = rest.index(after: next)
                            continue
                        }
                        rest = rest[next...]
                        return rest.base[start..<next]
                    }
                    index = rest.index(after: index)
                }
                return nil
            }
            let word = rest.prefix { $0 != " " && $0 != "." && $0 != "(" && $0 != ";" }
            guard !word.isEmpty else { return nil }
            rest = rest.dropFirst(word.count)
            return word
        }

        mutating func qualifiedName() -> String? {
            guard let first = identifier() else { return nil }
            guard rest.first == "." else { return String(first) }
            rest = rest.dropFirst()
            guard let second = identifier() else { return nil }
            return "\(first).\(second)"
        }
    }
}
