/// How to reach the PostgreSQL server.
public struct PostgresConnection: Sendable, Equatable {
    /// `POSTGRES_HOST`: a host name, or a directory holding the server's unix socket.
    public var host: String
    /// `POSTGRES_PORT`.
    public var port: Int
    /// `POSTGRES_DB`: the database that is backed up and, by default, restored into.
    public var database: String
    /// `POSTGRES_USER`.
    public var user: String
    /// `POSTGRES_PASSWORD`, or the first line of `POSTGRES_PASSWORD_FILE`. Never logged or shown.
    public var password: String?

    public init(host: String, port: Int, database: String, user: String, password: String? = nil) {
        self.host = host
        self.port = port
        self.database = database
        self.user = user
        self.password = password
    }
}
