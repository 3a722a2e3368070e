import Foundation

/// moto's S3 API (`moto_server` from the tools virtualenv) on a loopback port, with authentication really on:
/// `INITIAL_NO_AUTH_ACTION_COUNT=3` lets exactly three unsigned IAM calls through (create a user, give it an
/// inline `s3:*` policy, make its access key); from then on every request must be signed with that key, so a
/// wrong secret gets 403 (moto accepts any secret by default, which would prove nothing). The bucket is created
/// with the new key. State lives in moto's memory: a stopped server forgets everything.
package final class MotoServer: @unchecked Sendable {
    package static let executable = "/opt/pgbackup-tools/bin/moto_server"
    package static let python = "/opt/pgbackup-tools/bin/python"
    package static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: executable) }

    package let port: Int
    package let bucket: String
    package private(set) var accessKeyID = ""
    package private(set) var secret = ""
    private var process: RunningProcess?

    package var endpoint: String { "http://127.0.0.1:\(port)" }

    package init(bucket: String = "pgbackup-offsite") throws {
        guard Self.isInstalled else { throw HarnessError.missingTool(Self.executable) }
        port = try LoopbackPort.free()
        self.bucket = bucket
        var environment = RunningProcess.baseEnvironment()
        environment["INITIAL_NO_AUTH_ACTION_COUNT"] = "3"
        let server = try RunningProcess(Self.executable, ["-H", "127.0.0.1", "-p", String(port)], environment: environment)
        process = server
        guard Poll.until(timeout: 30, interval: 20_000, { LoopbackPort.isListening(port) }) else {
            stop()
            throw HarnessError.setup("moto_server did not listen on port \(port): \(server.wait(timeout: .seconds(5)))")
        }
        try provision()
    }

    deinit { stop() }

    /// Kills the server at once (SIGKILL): a remote that dies mid-upload.
    package func stop() {
        process?.signal(SIGKILL)
        _ = process?.wait(timeout: .seconds(10))
        process = nil
    }

    package var pid: pid_t? { process?.pid }

    /// An rclone config for this server as an S3 "Other" provider, under remote name `name`; `secret` overrides
    /// the real secret (a wrong-credentials test). Small upload cut-off and chunks, so tests see multipart.
    package func rcloneConfig(name: String = "offsite", secret override: String? = nil) -> String {
        """
        [\(name)]
        type = s3
        provider = Other
        access_key_id = \(accessKeyID)
        secret_access_key = \(override ?? secret)
        endpoint = \(endpoint)
        region = us-east-1
        upload_cutoff = 5Mi
        chunk_size = 5Mi

        """
    }

    private func provision() throws {
        let result = try ProcessRunner.run(Self.python, ["-c", Self.provisioning, endpoint, bucket],
                                           environment: RunningProcess.baseEnvironment(), timeout: .seconds(60))
        let lines = result.out.split(separator: "\n").map(String.init)
        guard result.status == 0, lines.count >= 2 else { throw HarnessError.commandFailed("moto provisioning", result) }
        accessKeyID = lines[0]
        secret = lines[1]
    }

    /// The three unsigned IAM calls, then the bucket, signed with the new key.
    private static let provisioning = """
        import sys, json, boto3
        endpoint, bucket = sys.argv[1], sys.argv[2]
        iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                           aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
        iam.create_user(UserName="pgbackup")
        iam.put_user_policy(UserName="pgbackup", PolicyName="s3", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
        key = iam.create_access_key(UserName="pgbackup")["AccessKey"]
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
        s3.create_bucket(Bucket=bucket)
        print(key["AccessKeyId"])
        print(key["SecretAccessKey"])
        """
}
