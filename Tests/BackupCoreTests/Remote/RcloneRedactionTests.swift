import Foundation
import TestSupport
import Testing

@testable import BackupCore

@Suite("RcloneRedaction")
struct RcloneRedactionTests {
    @Test("every credential of the config file and the password are masked; other values are left alone")
    func masksSecrets() throws {
        let dir = try TemporaryDirectory(prefix: "redaction")
        defer { dir.remove() }
        let path = try dir.write("rclone.conf", """
            [offsite]
            type = s3
            provider = Other
            access_key_id = AKIAEXAMPLEKEY123
            secret_access_key = wJalr/XUtnFEMI+K7MDENG
            session_token = tok3n-value
            endpoint = http://127.0.0.1:9000
            env_auth = false
            [sftp]
            pass = hunter2hunter2
            """)
        let redaction = RcloneRedaction(configPath: path, password: "dbpass99")
        let text = "Credential=AKIAEXAMPLEKEY123/20261202 sig wJalr/XUtnFEMI+K7MDENG tok3n-value hunter2hunter2 "
            + "dbpass99 at http://127.0.0.1:9000 false"
        let redacted = redaction.redact(text)
        for secret in ["AKIAEXAMPLEKEY123", "wJalr/XUtnFEMI+K7MDENG", "tok3n-value", "hunter2hunter2", "dbpass99"] {
            #expect(!redacted.contains(secret), "\(secret) in \(redacted)")
        }
        #expect(redacted.contains("http://127.0.0.1:9000"))
        #expect(redacted.hasSuffix(" false"))
    }

    @Test("rclone's JSON log lines become its error messages, redacted")
    func messagesFromJSONLog() throws {
        let dir = try TemporaryDirectory(prefix: "redaction")
        defer { dir.remove() }
        let path = try dir.write("rclone.conf", "[o]\ntype = s3\nsecret_access_key = verysecretvalue\n")
        let remote = RcloneRemote(settings: RemoteSettings(remoteName: "o", path: "b", rcloneConfig: path),
                                  environment: [:], password: nil)
        let stderr = """
            {"level":"notice","msg":"Transferred: 1 MiB","stats":{"bytes":1048576}}
            {"level":"error","msg":"Failed to copy: SignatureDoesNotMatch for verysecretvalue\\n","source":"x"}
            not json at all
            """
        #expect(remote.message(stderr) == "Failed to copy: SignatureDoesNotMatch for ********")
    }
}
