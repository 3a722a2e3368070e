import Foundation
import TestSupport
import Testing

/// Cross-site request forgery as it really happens: a real browser that holds the operator's credentials opens a
/// page of another site that submits a form to the API; and an nginx without its check, where the responder's own
/// check has to hold. Each test has its own stack (no database: cleanup needs none) with two old backups and
/// retention that keeps one, so a cleanup that ran would delete the older.
@Suite("API: cross-site forms from a real browser, and an nginx without the check", .serialized)
final class APICrossSiteBrowserTests {
    let stack: NginxStack
    let old = "backup_appdb_20200101_120000.sql.gz"
    let newer = "backup_appdb_20200102_120000.sql.gz"

    init() throws {
        stack = try NginxStack(settings: ["BACKUP_MAX_COUNT": "1", "BACKUP_RETENTION_DAYS": "1"])
        for (timestamp, createdAt) in [("20200101_120000", "2020-01-01T12:00:00"), ("20200102_120000", "2020-01-02T12:00:00")] {
            _ = try BackupFiles.writeOldToolBackup(
                dump: Data("SELECT 1;\n--\n-- PostgreSQL database dump complete\n--\n".utf8), database: "appdb",
                timestamp: timestamp, createdAt: createdAt, description: "old", in: stack.backupDir)
        }
    }

    deinit { stack.stop() }

    /// BACKUP_DIR without the listing cache, which any read may refresh, and the lock file, which the control's dry
    /// run creates (empty) when it takes the lock.
    func backups() throws -> [String: String] {
        try stack.snapshot().filter { !$0.key.hasPrefix(".cache/") && $0.key != ".lock" }
    }

    func accessLog() -> [Substring] {
        let text = (try? String(contentsOf: stack.nginxDir.appendingPathComponent("access.log"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n")
    }

    @Test("headless Chromium with the credentials opens another origin's auto-submitting forms: nginx logs 403, nothing is deleted",
          .timeLimit(.minutes(3)))
    func browserForms() throws {
        let python = "/usr/bin/python3"  // Debian's, which has python3-selenium
        for tool in [python, "/usr/bin/chromium", "/usr/bin/chromedriver"] {
            guard FileManager.default.isExecutableFile(atPath: tool) else {
                throw HarnessError.setup("\(tool) is missing: run deploy/dependencies.sh (chromium, chromium-driver, python3-selenium)")
            }
        }
        // A first dry run leaves what any cleanup leaves (the lock file, an empty state file), so that the control's
        // dry run below leaves BACKUP_DIR as it was.
        #expect(try stack.post("/api/backups/cleanup", json: #"{"dry_run": true}"#).status == 200)
        let before = try backups()
        #expect(before.keys.contains(old) && before.keys.contains(newer))
        let work = stack.scratch.appending("browser")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let script = work.appendingPathComponent("forge.py")
        try Data(Self.script.utf8).write(to: script)
        var environment = RunningProcess.baseEnvironment(home: work.path)
        environment.merge(["API": stack.baseURL, "API_USER": stack.user, "API_PASSWORD": stack.password,
                           "WORK": work.path, "DEADLINE": "100"]) { _, new in new }
        let result: ProcessResult
        do {
            defer { Self.killBrowsers(using: work.path) }
            result = try ProcessRunner.run(python, [script.path], environment: environment, timeout: .seconds(150))
        }
        guard result.status == 0 else { throw HarnessError.commandFailed("the browser script", result) }
        let report = try JSON.object(Data(result.out.utf8))

        // The browser really held the credentials: the status page answered.
        let status = try #require(report["status_page"] as? [String: Any], "\(result.out)")
        #expect(JSON.int(status["total_backups"]) == 2, "\(status)")
        // Every forged submission got the JSON refusal, and nothing was deleted.
        let forged = try #require(report["forged"] as? [[String: Any]])
        #expect(forged.count == 4)
        for submission in forged {
            let answer = submission["answer"] as? [String: Any]
            #expect(answer?["error"] as? String == "cross_site_request", "\(submission)")
        }
        let after = try backups()
        #expect(after == before, "a forged form changed BACKUP_DIR: \(after.keys.sorted()) vs \(before.keys.sorted())")
        // nginx saw them, with the browser's credentials (its log shows the user), and refused them.
        let refused = accessLog().filter { $0.contains("\"POST /api/backups/cleanup HTTP/") && $0.contains("Chrome") }
        #expect(refused.count == 5, "\(refused)")
        let forgedLines = refused.filter { $0.contains("\" 403 ") }
        #expect(forgedLines.count == 4, "\(refused)")
        #expect(forgedLines.allSatisfy { $0.contains(" - \(stack.user) [") }, "the browser did not send its credentials: \(forgedLines)")
        let attacker = try #require(report["attacker"] as? String)
        #expect(forgedLines.filter { $0.contains("\"\(attacker)/\"") }.count == 3, "\(forgedLines)")

        // The control: a script of the API's own origin may POST with the same credentials (a dry run).
        let control = try #require(report["same_origin"] as? [String: Any], "\(report)")
        #expect(JSON.int(control["status"]) == 200, "\(control)")
        let body = try JSON.object(Data((control["body"] as? String ?? "").utf8))
        #expect(body["deleted"] as? [String] == [old], "\(body)")
        let end = try backups()
        #expect(end == before, "\(end.keys.sorted())")
    }

    /// Removes nginx's check from this stack's rendered site and restarts nginx with it, as a hand-edited production
    /// file might be. (A restart, not a reload: after a reload an old worker may still answer a request or two.)
    func disableNginxCheck() throws {
        let site = stack.nginxDir.appendingPathComponent("pgbackup.conf")
        let text = try String(contentsOf: site, encoding: .utf8)
        let edited = text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.contains("if ($pgbackup_cross_site)") }.joined(separator: "\n")
        #expect(text.components(separatedBy: "if ($pgbackup_cross_site)").count == 2,
                "one check, at server level (limit_except blocks skip a location's rewrite directives)")
        try Data(edited.utf8).write(to: site)
        let stop = try ProcessRunner.run(try SourceTree.file("nginx/local.sh").path, ["stop", stack.nginxDir.path])
        guard stop.status == 0 else { throw HarnessError.commandFailed("nginx/local.sh stop", stop) }
        // nginx daemonises: its output goes to /dev/null so that nobody waits for the pipes it would keep open.
        let start = try ProcessRunner.run(
            "/bin/bash", ["-c", #"exec "$0" -p "$1" -c "$2" </dev/null >/dev/null 2>&1"#, try ProcessRunner.tool("nginx"),
                          stack.nginxDir.path + "/", stack.nginxDir.appendingPathComponent("nginx.conf").path],
            timeout: .seconds(30))
        guard start.status == 0 else { throw HarnessError.commandFailed("nginx with the edited site", start) }
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            // Harmless either way: whoever answers refuses it.
            if let probe = try? stack.request("POST", "/api/backups/cleanup", headers: ["Origin: null"], timeout: 5) {
                let detail = (try? probe.object()["detail"] as? String) ?? nil
                #expect(probe.status == 403 && detail?.hasPrefix("a request from another origin") == true, "\(probe)")
                return
            }
            usleep(100_000)
        }
        throw HarnessError.setup("nginx did not start with the edited configuration within 20 s")
    }

    @Test("with nginx's check removed, the responder refuses every forged kind itself; requests without browser headers still work")
    func responderHoldsWithoutNginxCheck() throws {
        let before = try backups()
        try disableNginxCheck()
        let forgeries = ["Origin: https://evil.example", "Origin: null", "Sec-Fetch-Site: cross-site", "Sec-Fetch-Site: same-site"]
        for forgery in forgeries {
            for (method, path) in [("POST", "/api/backups/cleanup"), ("DELETE", "/api/backups/\(newer)"),
                                   ("POST", "/api/backups"), ("POST", "/api/backups/restore")] {
                let response = try stack.request(method, path, body: Data(), contentType: "application/x-www-form-urlencoded",
                                                 headers: [forgery])
                expectAPIError(response, 403, "cross_site_request", "\(forgery): \(method) \(path)")
                let detail = (try? response.object()["detail"] as? String) ?? nil
                #expect(detail?.first?.isLowercase == true, "the responder, not nginx, refused it: \(response)")
                expectBrowserHeaders(response, throughNginx: true, "\(forgery): \(method) \(path)")
            }
        }
        #expect(try backups() == before, "a forged request changed BACKUP_DIR")
        // The responder answered them (it logs every mutating request with its status).
        let log = stack.stopResponder()?.err ?? ""
        #expect(log.split(separator: "\n").filter { $0.contains("api request") && $0.contains("status=403") }.count >= 16, "\(log)")
        try stack.startResponder()

        // From the API's own origin, and without browser headers, cleanup runs: the older backup goes.
        let own = try stack.request("POST", "/api/backups/cleanup", headers: ["Origin: \(stack.baseURL)", "Sec-Fetch-Site: same-origin"])
        #expect(own.status == 200, "\(own)")
        #expect(try own.object()["deleted"] as? [String] == [old])
        let left = try backups().keys.filter { !$0.hasPrefix(".") }.sorted()
        #expect(left == [newer, newer + ".json"], "\(left)")
    }

    /// Ends any browser the script left behind (a timeout kills Python, not its children): the processes whose
    /// command line names this test's own profile directory.
    static func killBrowsers(using directory: String) {
        let procs = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in procs {
            guard let pid = pid_t(entry), pid != getpid(),
                  let argv = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(entry)/cmdline")),
                  argv.range(of: Data(directory.utf8)) != nil else { continue }
            kill(pid, SIGKILL)
        }
    }

    /// The browser side, run with Debian's python3 and python3-selenium.
    static let script = #"""
"""A page of another origin makes a real browser (headless Chromium, driven by Selenium) submit forms to the API.

Environment: API (https://127.0.0.1:PORT), API_USER, API_PASSWORD, WORK (a private directory), DEADLINE (seconds).
Prints one JSON object: what the browser saw for each forged submission and for the same-origin control.
"""
import html
import http.server
import json
import os
import signal
import sys
import threading
import time
import urllib.parse

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

API = os.environ["API"]
USER = os.environ["API_USER"]
PASSWORD = os.environ["API_PASSWORD"]
WORK = os.environ["WORK"]
DEADLINE = int(os.environ.get("DEADLINE", "90"))
ENCTYPES = ["application/x-www-form-urlencoded", "multipart/form-data", "text/plain"]


def form_page(enctype):
    # A form without fields: its urlencoded or text/plain body is empty, which the API took as `{}` and ran.
    action = html.escape(API + "/api/backups/cleanup", quote=True)
    return (
        "<!doctype html><html><body>"
        f'<form id="f" method="POST" action="{action}" enctype="{html.escape(enctype, quote=True)}">'
        "</form>"
        "<script>document.getElementById('f').submit();</script>"
        "</body></html>"
    )


class Attacker(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        body = form_page(query.get("enctype", [ENCTYPES[0]])[0]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def give_up(*_):
    raise TimeoutError(f"the browser test took longer than {DEADLINE} s")


def wait_for_api_page(driver, seconds=20):
    """Waits until the browser shows an answer of the API (the form's target) and returns its text."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        shown, api = urllib.parse.urlparse(driver.current_url), urllib.parse.urlparse(API)
        # Compared without the user:password@ part the first visit carries.
        if (shown.scheme, shown.hostname, shown.port) == (api.scheme, api.hostname, api.port) and shown.path.startswith("/api/"):
            text = driver.find_element(By.TAG_NAME, "body").text
            if text.strip():
                return text
        time.sleep(0.1)
    raise TimeoutError(f"no API answer in the browser; it shows {driver.current_url}")


def main():
    signal.signal(signal.SIGALRM, give_up)
    signal.alarm(DEADLINE)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Attacker)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    attacker = f"http://127.0.0.1:{server.server_address[1]}"

    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for argument in [
        "--headless=new", "--no-sandbox", "--ignore-certificate-errors", "--disable-gpu",
        "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={WORK}/profile",
    ]:
        options.add_argument(argument)
    service = Service("/usr/bin/chromedriver", log_path=os.path.join(WORK, "chromedriver.log"))
    driver = webdriver.Chrome(service=service, options=options)
    result = {"attacker": attacker, "forged": []}
    try:
        driver.set_page_load_timeout(30)
        driver.set_script_timeout(30)
        # The operator's browser holds the credentials: it has visited the API once with them.
        host = urllib.parse.urlparse(API).netloc
        credentials = urllib.parse.quote(USER, safe="") + ":" + urllib.parse.quote(PASSWORD, safe="")
        driver.get(f"https://{credentials}@{host}/api/backups/status")
        result["status_page"] = json.loads(wait_for_api_page(driver))

        # Another site's pages submit forms to the cleanup URL, as each enctype a form can have.
        for enctype in ENCTYPES:
            driver.get(attacker + "/?enctype=" + urllib.parse.quote(enctype))
            result["forged"].append({"from": attacker, "enctype": enctype, "answer": json.loads(wait_for_api_page(driver))})
        # The same from a document without an origin (Origin: null).
        driver.get("data:text/html;charset=utf-8," + urllib.parse.quote(form_page(ENCTYPES[0])))
        result["forged"].append({"from": "data:", "enctype": ENCTYPES[0], "answer": json.loads(wait_for_api_page(driver))})

        # The control: a script on the API's own origin may POST (a dry run) with the browser's credentials. The
        # API's own answers forbid scripts (CSP), so the control lifts the CSP in the browser for this page only.
        driver.execute_cdp_cmd("Page.setBypassCSP", {"enabled": True})
        driver.get(API + "/api/backups/status")
        wait_for_api_page(driver)
        result["same_origin"] = driver.execute_async_script(
            """
            const done = arguments[arguments.length - 1];
            fetch('/api/backups/cleanup', {method: 'POST', headers: {'Content-Type': 'application/json'},
                                           body: JSON.stringify({dry_run: true})})
              .then(r => r.text().then(t => done({status: r.status, body: t})))
              .catch(e => done({error: String(e)}));
            """
        )
    finally:
        try:
            driver.quit()
        finally:
            server.shutdown()
            signal.alarm(0)
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
"""#
}
