import Foundation

extension PostgresTools {
    /// Settings whose stored value is a list already quoted element by element (`"$user", public`): written back
    /// as it is; every other value is written as one literal.
    static let listSettings = ["search_path", "temp_tablespaces", "session_preload_libraries", "local_preload_libraries"]

    /// One query whose answer is `{"create": …, "after": [...], "comment": …}` for `databaseLike`, or NULL when
    /// `target` does not exist. The statements are built by the server (`format`), in order: settings, then the
    /// grants (when the target has an ACL, the defaults are revoked first so the new one ends up the same).
    static func likeSQL(target: String, new: String, serverVersion: Int) -> String {
        let n = literal(new)
        let lists = listSettings.map(literal).joined(separator: ", ")
        return """
            SELECT json_build_object('create', format('CREATE DATABASE %I TEMPLATE template0 OWNER %I ENCODING %L \
            LC_COLLATE %L LC_CTYPE %L', \(n), pg_get_userbyid(d.datdba), pg_encoding_to_char(d.encoding), d.datcollate, \
            d.datctype) || \(localeSQL(serverVersion)) || format(' CONNECTION LIMIT %s TABLESPACE %I', d.datconnlimit, \
            t.spcname),
              'after', coalesce((SELECT json_agg(x.s ORDER BY x.o, x.k, x.i, x.s) FROM (
                SELECT 1 AS o, r.setrole::oid::bigint AS k, u.i, format('ALTER %s SET %s', CASE WHEN r.setrole = 0 THEN format('DATABASE %I', \(n))
                  ELSE format('ROLE %I IN DATABASE %I', pg_get_userbyid(r.setrole), \(n)) END,
                  CASE WHEN split_part(c, '=', 1) IN (\(lists))
                    THEN format('%I TO %s', split_part(c, '=', 1), substr(c, strpos(c, '=') + 1))
                    ELSE format('%I TO %L', split_part(c, '=', 1), substr(c, strpos(c, '=') + 1)) END) AS s
                FROM pg_db_role_setting r, unnest(r.setconfig) WITH ORDINALITY u(c, i) WHERE r.setdatabase = d.oid
                UNION ALL
                SELECT 2, 0, 0, v.s FROM (VALUES (format('REVOKE ALL ON DATABASE %I FROM PUBLIC', \(n))),
                  (format('REVOKE ALL ON DATABASE %I FROM %I', \(n), pg_get_userbyid(d.datdba)))) v(s)
                WHERE d.datacl IS NOT NULL
                UNION ALL
                SELECT 3, 0, 0, format('GRANT %s ON DATABASE %I TO %s%s', a.privilege_type, \(n),
                  CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
                  CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)
                FROM aclexplode(d.datacl) a) x), '[]'::json),
              'comment', shobj_description(d.oid, 'pg_database'))
            FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace WHERE d.datname = \(literal(target))
            """
    }

    /// The locale provider's clause (PostgreSQL 15+: ICU; 16+: ICU rules; 17+: the builtin provider).
    static func localeSQL(_ serverVersion: Int) -> String {
        switch serverVersion {
        case 170_000...:
            """
            CASE d.datlocprovider WHEN 'i' THEN format(' LOCALE_PROVIDER icu ICU_LOCALE %L', d.datlocale) \
            WHEN 'b' THEN format(' LOCALE_PROVIDER builtin BUILTIN_LOCALE %L', d.datlocale) \
            ELSE ' LOCALE_PROVIDER libc' END || CASE WHEN d.daticurules IS NULL THEN '' ELSE format(' ICU_RULES %L', d.daticurules) END
            """
        case 160_000...:
            """
            CASE d.datlocprovider WHEN 'i' THEN format(' LOCALE_PROVIDER icu ICU_LOCALE %L', d.daticulocale) \
            ELSE ' LOCALE_PROVIDER libc' END || CASE WHEN d.daticurules IS NULL THEN '' ELSE format(' ICU_RULES %L', d.daticurules) END
            """
        case 150_000...:
            """
            CASE d.datlocprovider WHEN 'i' THEN format(' LOCALE_PROVIDER icu ICU_LOCALE %L', d.daticulocale) \
            ELSE ' LOCALE_PROVIDER libc' END
            """
        default: "''"
        }
    }
}
