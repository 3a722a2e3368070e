/// The line beginnings and endings `DumpSplitter` recognises in pg_dump's plain SQL.
extension DumpSplitter {
    static let newline: [UInt8] = [0x0A]
    static let endOfCopy = Array("\\.\n".utf8)
    static let dashes = Array("--".utf8)
    static let namePrefix = Array("-- Name: ".utf8)
    static let dataPrefix = Array("-- Data for Name: ".utf8)
    static let copyPrefix = Array("COPY ".utf8)
    static let copySuffix = Array(" FROM stdin;".utf8)
    static let setPrefix = Array("SET ".utf8)
    static let setConfigPrefix = Array("SELECT pg_catalog.set_config(".utf8)
    static let restrictPrefix = Array("\\restrict ".utf8)
    static let unrestrictPrefix = Array("\\unrestrict ".utf8)
    static let tablespacePrefix = Array("SET default_tablespace = ".utf8)
    static let accessMethodPrefix = Array("SET default_table_access_method = ".utf8)
}
