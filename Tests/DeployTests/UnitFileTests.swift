import Foundation
import Testing

@Suite("systemd units")
struct UnitFileTests {
    /// The units as installed, checked inside the staged root where their ExecStart binaries
    /// exist; the root also needs systemd's own units (sysinit.target and friends).
    @Test("systemd-analyze verify passes for every unit installed with its binaries")
    func verifyInstalledUnits() throws {
        let staged = try StagedInstall()
        defer { staged.remove() }
        try #require(staged.result.status == 0, "\(staged.result)")
        try Command.run("mkdir", ["-p", staged.path("/usr/lib/systemd"), staged.path("/usr/bin")])
        try #require(try Command.run("cp", ["-a", "/lib/systemd/system", staged.path("/usr/lib/systemd/")]).status == 0)
        // pgbackup-failure@.service runs the system's logger, which an install does not put there.
        try #require(try Command.run("cp", ["/usr/bin/logger", staged.path("/usr/bin/logger")]).status == 0)

        let result = try Command.run(
            "systemd-analyze", ["verify", "--root=\(staged.root.path)"] + Paths.units.map { "/etc/systemd/system/\($0)" })
        #expect(result.status == 0, "\(result)")
        #expect(!result.combined.contains("pgbackup"), "verify complained: \(result.combined)")
    }

    @Test("systemd-analyze verify notices a missing ExecStart binary (the check is real)")
    func verifyNoticesMissingBinary() throws {
        let staged = try StagedInstall()
        defer { staged.remove() }
        try #require(staged.result.status == 0, "\(staged.result)")
        try Command.run("mkdir", ["-p", staged.path("/usr/lib/systemd")])
        try Command.run("cp", ["-a", "/lib/systemd/system", staged.path("/usr/lib/systemd/")])
        try FileManager.default.removeItem(atPath: staged.path("/usr/local/bin/pgbackup-scheduler"))

        let result = try Command.run(
            "systemd-analyze", ["verify", "--root=\(staged.root.path)", "/etc/systemd/system/pgbackup-scheduler.service"])
        #expect(result.status != 0)
        #expect(result.combined.contains("/usr/local/bin/pgbackup-scheduler is not executable"), "\(result)")
    }

    @Test("systemd-analyze security rates each service at 2.0 or better", arguments: Paths.services)
    func exposure(service: String) throws {
        let result = try Command.run(
            "systemd-analyze", ["security", "--offline=yes", "--no-pager", Paths.deploy + "/" + service])
        #expect(result.status == 0, "\(result)")
        let pattern = try Regex(#"Overall exposure level for \S+: ([0-9]+\.[0-9]+)"#)
        let match = try #require(result.out.firstMatch(of: pattern), "no exposure line in \(result)")
        let level = try #require(Double(String(match.output[1].substring ?? "")))
        #expect(level <= 2.0, "\(service) exposure \(level)")
    }

    @Test("the socket lets only nginx's group connect, and the service runs as pgbackup")
    func socketAndUsers() throws {
        let socket = try UnitFile(path: Paths.deploy + "/pgbackup-fcgi.socket")
        #expect(socket.value("ListenStream") == "/run/pgbackup/fcgi.sock")
        #expect(socket.value("SocketUser") == "pgbackup")
        #expect(socket.value("SocketGroup") == "www-data")
        #expect(socket.value("SocketMode") == "0660")
        #expect(socket.value("WantedBy") == "sockets.target")

        let service = try UnitFile(path: Paths.deploy + "/pgbackup-fcgi.service")
        #expect(service.value("User") == "pgbackup")
        #expect(service.value("KillMode") == "process", "detached jobs must survive the responder exiting")
        let start = try #require(service.value("ExecStart"))
        #expect(start.hasPrefix("/usr/local/bin/pgbackup-fcgi "))
        #expect(start.contains("--idle-timeout "))
        #expect(service.value("MemoryDenyWriteExecute") == "yes")
        #expect(service.value("ProtectSystem") == "strict")
    }

    @Test("the scheduler is a oneshot started every 15 minutes, catching up missed runs")
    func schedulerTimer() throws {
        let service = try UnitFile(path: Paths.deploy + "/pgbackup-scheduler.service")
        #expect(service.value("Type") == "oneshot")
        #expect(service.value("User") == "pgbackup")
        #expect(service.value("ExecStart") == "/usr/local/bin/pgbackup-scheduler")

        #expect(service.value("OnFailure") == "pgbackup-failure@%n.service")

        let timer = try UnitFile(path: Paths.deploy + "/pgbackup-scheduler.timer")
        #expect(timer.value("Persistent") == "true")
        #expect(timer.value("RandomizedDelaySec") != nil)
        let calendar = try #require(timer.value("OnCalendar"))
        let next = try Command.run(
            "systemd-analyze", ["calendar", "--iterations=3", "--base-time=2030-01-01 10:01:00 UTC", calendar],
            environment: ["TZ": "UTC"])
        #expect(next.status == 0, "\(next)")
        for time in ["10:15:00", "10:30:00", "10:45:00"] {
            #expect(next.out.contains("2030-01-01 \(time) UTC"), "\(next.out)")
        }
    }

    @Test("a failed scheduler run is logged again at priority err by pgbackup-failure@.service")
    func failureUnit() throws {
        let unit = try UnitFile(path: Paths.deploy + "/pgbackup-failure@.service")
        #expect(unit.value("Type") == "oneshot")
        let start = try #require(unit.value("ExecStart"))
        #expect(start.hasPrefix("/usr/bin/logger --priority user.err "), "\(start)")
        #expect(start.contains("%i failed"), "\(start)")
        #expect(FileManager.default.isExecutableFile(atPath: "/usr/bin/logger"))
    }
}
