import Foundation
import TestSupport
import Testing

@Suite("deploy/install.sh into a staged root")
struct InstallScriptTests {
    static let password = "correct horse battery staple"

    @Test("binaries, directories, configuration, TLS, htpasswd, nginx site and units land with the right modes")
    func layout() throws {
        let staged = try StagedInstall(environment: ["PGBACKUP_HTTP_PASSWORD": Self.password, "PGBACKUP_HTTP_USER": "operator"])
        defer { staged.remove() }
        try #require(staged.result.status == 0, "\(staged.result)")

        for name in Paths.executables {
            let installed = staged.path("/usr/local/bin/\(name)")
            #expect(try FileFacts.mode(installed) == 0o755, "\(name)")
            #expect(try FileFacts.data(installed) == FileFacts.data(Paths.binaries + "/" + name), "\(name) is not the built binary")
        }
        if FileFacts.exists(Paths.repository + "/backup-database.sh") {
            #expect(try FileFacts.mode(staged.path("/usr/local/bin/backup-database.sh")) == 0o755)
        }
        #expect(try FileFacts.mode(staged.path("/usr/local/share/doc/pgbackup/deploy.md")) == 0o644)

        #expect(try FileFacts.mode(staged.path("/var/lib/pgbackup")) == 0o700)
        #expect(try FileFacts.mode(staged.path("/var/lib/pgbackup/backups")) == 0o700)
        #expect(try FileFacts.mode(staged.path("/etc/pgbackup")) == 0o751)
        #expect(try FileFacts.mode(staged.path("/etc/pgbackup/pgbackup.env")) == 0o640)
        // The example, plus the web user as the one operator for the responder's role check.
        let env = try FileFacts.text(staged.path("/etc/pgbackup/pgbackup.env"))
        #expect(env.hasPrefix(try FileFacts.text(Paths.deploy + "/pgbackup.env.example")))
        #expect(env.hasSuffix("\nPGBACKUP_OPERATORS=operator\n"), "\(env.suffix(200))")
        #expect(try FileFacts.mode(staged.path("/etc/pgbackup/operators.htpasswd")) == 0o640)
        #expect(try FileFacts.text(staged.path("/etc/pgbackup/operators.htpasswd")) == FileFacts.text(staged.path("/etc/pgbackup/htpasswd")))
        #expect(try FileFacts.mode(staged.path("/etc/pgbackup/tls")) == 0o700)
        #expect(try FileFacts.mode(staged.path("/etc/pgbackup/tls/key.pem")) == 0o600)
        #expect(try FileFacts.mode(staged.path("/etc/pgbackup/tls/cert.pem")) == 0o644)
        #expect(try FileFacts.mode(staged.path("/etc/pgbackup/htpasswd")) == 0o640)
        #expect(!FileFacts.exists(staged.path("/etc/pgbackup/initial-http-password")), "a given password is not stored in clear")

        let site = staged.path("/etc/nginx/sites-available/pgbackup.conf")
        #expect(try FileFacts.mode(site) == 0o644)
        #expect(try FileFacts.text(site) == FileFacts.text(Paths.repository + "/nginx/pgbackup.conf"))
        let enabled = staged.path("/etc/nginx/sites-enabled/pgbackup.conf")
        #expect(FileFacts.isSymlink(enabled))
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: enabled) == "/etc/nginx/sites-available/pgbackup.conf")

        for unit in Paths.units {
            let installed = staged.path("/etc/systemd/system/\(unit)")
            #expect(try FileFacts.mode(installed) == 0o644, "\(unit)")
            #expect(try FileFacts.text(installed) == FileFacts.text(Paths.deploy + "/" + unit), "\(unit)")
        }
        #expect(FileFacts.isSymlink(staged.path("/etc/systemd/system/sockets.target.wants/pgbackup-fcgi.socket")))
        #expect(FileFacts.isSymlink(staged.path("/etc/systemd/system/timers.target.wants/pgbackup-scheduler.timer")))
    }

    @Test("the htpasswd entry checks out with the given password, and only with it")
    func htpasswd() throws {
        let staged = try StagedInstall(environment: ["PGBACKUP_HTTP_PASSWORD": Self.password, "PGBACKUP_HTTP_USER": "operator"])
        defer { staged.remove() }
        try #require(staged.result.status == 0, "\(staged.result)")
        let file = staged.path("/etc/pgbackup/htpasswd")
        let line = try FileFacts.text(file)
        #expect(line.hasPrefix("operator:$2y$"), "bcrypt by default: \(line)")
        #expect(!line.contains(Self.password))
        #expect(!staged.result.combined.contains(Self.password), "the password was printed")
        #expect(try Command.run("htpasswd", ["-v", "-i", file, "operator"], stdin: Self.password + "\n").status == 0)
        #expect(try Command.run("htpasswd", ["-v", "-i", file, "operator"], stdin: "wrong\n").status != 0)
    }

    @Test("the self-signed certificate matches its key and names localhost")
    func certificate() throws {
        let staged = try StagedInstall()
        defer { staged.remove() }
        try #require(staged.result.status == 0, "\(staged.result)")
        let cert = staged.path("/etc/pgbackup/tls/cert.pem")
        let key = staged.path("/etc/pgbackup/tls/key.pem")
        let fromCert = try Command.run("openssl", ["x509", "-in", cert, "-noout", "-pubkey"])
        let fromKey = try Command.run("openssl", ["pkey", "-in", key, "-pubout"])
        #expect(fromCert.status == 0 && fromKey.status == 0, "\(fromCert)\n\(fromKey)")
        #expect(!fromCert.out.isEmpty && fromCert.out == fromKey.out)
        let names = try Command.run("openssl", ["x509", "-in", cert, "-noout", "-ext", "subjectAltName"])
        #expect(names.out.contains("DNS:localhost") && names.out.contains("IP Address:127.0.0.1"), "\(names)")
    }

    @Test("a second run keeps the settings, the certificate and the password, and refreshes the units")
    func idempotent() throws {
        let staged = try StagedInstall()
        defer { staged.remove() }
        try #require(staged.result.status == 0, "\(staged.result)")
        let env = staged.path("/etc/pgbackup/pgbackup.env")
        let edited = try FileFacts.text(env) + "BACKUP_MAX_COUNT=12\n"
        try edited.write(toFile: env, atomically: false, encoding: .utf8)
        let cert = try FileFacts.data(staged.path("/etc/pgbackup/tls/cert.pem"))
        let htpasswd = try FileFacts.data(staged.path("/etc/pgbackup/htpasswd"))
        let unit = staged.path("/etc/systemd/system/pgbackup-fcgi.service")
        try "stale\n".write(toFile: unit, atomically: false, encoding: .utf8)

        let second = try staged.again(environment: ["PGBACKUP_HTTP_PASSWORD": nil])
        #expect(second.status == 0, "\(second)")
        #expect(try FileFacts.text(env) == edited)
        #expect(try FileFacts.data(staged.path("/etc/pgbackup/tls/cert.pem")) == cert)
        #expect(try FileFacts.data(staged.path("/etc/pgbackup/htpasswd")) == htpasswd)
        #expect(try FileFacts.text(unit) == FileFacts.text(Paths.deploy + "/pgbackup-fcgi.service"))
        #expect(second.out.contains("keeping existing"), "\(second)")
    }

    @Test("without a password and without a terminal, one is generated into a root-only file")
    func generatedPassword() throws {
        let staged = try StagedInstall(environment: ["PGBACKUP_HTTP_PASSWORD": nil, "PGBACKUP_HTTP_USER": nil])
        defer { staged.remove() }
        try #require(staged.result.status == 0, "\(staged.result)")
        let saved = staged.path("/etc/pgbackup/initial-http-password")
        #expect(try FileFacts.mode(saved) == 0o600)
        let line = try FileFacts.text(saved).trimmingCharacters(in: .newlines)
        let parts = line.split(separator: ":", maxSplits: 1).map(String.init)
        try #require(parts.count == 2)
        #expect(parts[0] == "admin")
        #expect(parts[1].count >= 24)
        #expect(!staged.result.combined.contains(parts[1]), "the password was printed")
        let check = try Command.run("htpasswd", ["-v", "-i", staged.path("/etc/pgbackup/htpasswd"), "admin"], stdin: parts[1] + "\n")
        #expect(check.status == 0, "\(check)")
    }

    @Test("--prefix moves the binaries and rewrites the units' ExecStart")
    func prefix() throws {
        let staged = try StagedInstall(prefix: "/opt/pgbackup")
        defer { staged.remove() }
        try #require(staged.result.status == 0, "\(staged.result)")
        #expect(FileManager.default.isExecutableFile(atPath: staged.path("/opt/pgbackup/bin/pgbackup-fcgi")))
        #expect(!FileFacts.exists(staged.path("/usr/local/bin/pgbackup-fcgi")))
        let service = try UnitFile(path: staged.path("/etc/systemd/system/pgbackup-fcgi.service"))
        #expect(service.value("ExecStart")?.hasPrefix("/opt/pgbackup/bin/pgbackup-fcgi ") == true)
        let scheduler = try UnitFile(path: staged.path("/etc/systemd/system/pgbackup-scheduler.service"))
        #expect(scheduler.value("ExecStart") == "/opt/pgbackup/bin/pgbackup-scheduler")
    }

    @Test("bad arguments are refused with a message and nothing is installed")
    func badArguments() throws {
        let root = try TemporaryDirectory(prefix: "root")
        defer { root.remove() }
        let relative = try Command.run(Paths.deploy + "/install.sh", ["--root", root.path, "--prefix", "opt", "--no-build", "--bin-dir", Paths.binaries])
        #expect(relative.status != 0)
        #expect(relative.err.contains("--prefix must be an absolute path"), "\(relative)")
        let unknown = try Command.run(Paths.deploy + "/install.sh", ["--frobnicate"])
        #expect(unknown.status != 0)
        #expect(unknown.err.contains("unknown argument: --frobnicate"), "\(unknown)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path).isEmpty)
    }
}
