import Foundation

/// The off-site remote, reached through rclone: one child process per call, argv without a shell, the
/// credentials only in the config file, and rclone's messages redacted before anyone sees them. Failures are
/// `BackupError.remoteFailed`.
struct RcloneRemote: Sendable {
    let settings: RemoteSettings
    let rclone: Rclone
    let redaction: RcloneRedaction

    init(settings: RemoteSettings, environment: [String: String], password: String?) {
        self.settings = settings
        rclone = Rclone(settings: settings, parentEnvironment: environment)
        redaction = RcloneRedaction(configPath: settings.rcloneConfig, password: password)
    }

    /// rclone's exit statuses for "directory not found" and "file not found".
    static let notFoundStatuses: Set<Int32> = [3, 4]

    /// Every object at the top of the remote directory (sizes, and with `hashes` MD5 and SHA-256 where the backend
    /// keeps them); empty when it does not exist yet.
    func objects(hashes: Bool = false) throws -> [RemoteObject] {
        let result = try run(rclone.list(hashes: hashes), what: "list \(settings.spec)", allowNotFound: true)
        guard let output = result else { return [] }
        return RemoteObject.parse(try parseJSON(output, what: "rclone lsjson"))
    }

    /// One object's size and hashes; nil when it is not there.
    func stat(_ object: String) throws -> RemoteObject? {
        guard let output = try run(rclone.stat(object), what: "look up \(object)", allowNotFound: true) else { return nil }
        return RemoteObject.parse(try parseJSON(output, what: "rclone lsjson")).first
    }

    /// A small object's bytes (a sidecar).
    func read(_ object: String) throws -> [UInt8] {
        Array((try run(rclone.cat(object), what: "read \(object)") ?? "").utf8)
    }

    func delete(_ object: String) throws {
        _ = try run(rclone.deleteFile(object), what: "delete \(object)", allowNotFound: true)
    }

    /// Deletes `objects` in one rclone call (what is already gone is no error). The list of names goes through a
    /// file in `scratchDirectory` (removed afterwards), not stdin: no write to a pipe rclone may have closed.
    func delete(_ objects: [String], scratchDirectory: String) throws {
        guard !objects.isEmpty else { return }
        let listPath = "\(scratchDirectory)/remote-delete-\(getpid()).list"
        try BackupError.mapping {
            try FileSystem.writeAtomically(Array(objects.map { $0 + "\n" }.joined().utf8), to: listPath,
                                           tempDirectory: scratchDirectory)
        }
        defer { try? FileSystem.remove(listPath) }
        let what = objects.count == 1 ? objects[0] : "\(objects.count) objects (\(objects.joined(separator: ", ")))"
        _ = try run(rclone.deleteFiles(listedIn: listPath), what: "delete \(what)", allowNotFound: true)
    }

    /// Uploads a local file, streamed from the file by rclone (no second copy), reporting its progress from
    /// rclone's one-second stats lines as phase "upload". Returns rclone's (redacted) error when it exited non-zero:
    /// the caller checks what is on the remote either way — rclone 1.60 reports some uploads that worked as failed
    /// (a multipart upload's final HEAD rejected by some S3 servers), and an exit status 0 proves nothing either.
    func upload(localPath: String, object: String, as kind: Rclone.Upload, progress: ProgressHandler?) throws -> String? {
        let meter = RcloneProgress(handler: progress)
        let process = try launch(rclone.copyTo(localPath: localPath, object: object, as: kind), observer: meter.observe)
        let status = process.wait()
        guard status == 0 else {
            return "upload of \(object) to \(settings.spec): rclone \(ChildProcess.describe(status)): "
                + message(process.stderrText())
        }
        return nil
    }

    /// Starts `rclone cat` of `object`: its stdout is the object's bytes. The caller reads it to the end, then
    /// calls `finish` on the returned process to learn whether rclone succeeded.
    func open(_ object: String) throws -> ChildProcess {
        try launch(rclone.cat(object), stdout: .pipe)
    }

    /// Waits for a process started by `open`; a failure names the object.
    func finish(_ process: ChildProcess, object: String) throws {
        let status = process.wait()
        guard status == 0 else {
            throw BackupError.remoteFailed("reading \(object) from \(settings.spec) \(ChildProcess.describe(status)): "
                + message(process.stderrText()))
        }
    }

    private func launch(_ command: Command, stdout: ChildProcess.Output = .null,
                        observer: (@Sendable (ArraySlice<UInt8>) -> Void)? = nil) throws -> ChildProcess {
        do {
            return try ChildProcess(command, stdout: stdout, stderrObserver: observer)
        } catch let error as SystemError {
            throw BackupError.launchFailed(program: "rclone", message: "\(error)")
        }
    }

    /// Runs a short command; its stdout, or nil when it failed with "not found" and `allowNotFound`.
    private func run(_ command: Command, what: String, allowNotFound: Bool = false) throws -> String? {
        let process = try launch(command, stdout: .pipe)
        var collected = [UInt8]()
        if let fd = process.stdout {
            let sink = ClosureSink { collected.append(contentsOf: $0) }
            try DescriptorSource(fd: fd, name: "rclone output", closesDescriptor: false).pump(into: sink)
        }
        process.closeStdout()
        let status = process.wait()
        if status == 0 { return String(decoding: collected, as: UTF8.self) }
        if allowNotFound, Self.notFoundStatuses.contains(status) { return nil }
        throw BackupError.remoteFailed("cannot \(what): rclone \(ChildProcess.describe(status)): "
            + message(process.stderrText()))
    }

    private func parseJSON(_ text: String, what: String) throws -> JSON {
        do { return try JSON.parse(Array(text.utf8)) } catch {
            throw BackupError.remoteFailed("\(what) printed something that is not JSON")
        }
    }

    /// rclone's error messages from its JSON log lines (the whole tail when there are none), redacted.
    func message(_ stderr: String) -> String {
        var messages: [String] = []
        for line in stderr.split(whereSeparator: \.isNewline) {
            guard let json = try? JSON.parse(Array(line.utf8)) else { continue }
            if let level = json["level"]?.stringValue, ["error", "critical", "fatal"].contains(level),
               let text = json["msg"]?.stringValue {
                messages.append(text.trimmingCharacters(in: .whitespacesAndNewlines))
            }
        }
        let text = messages.isEmpty ? String(stderr.suffix(600)) : messages.suffix(3).joined(separator: "; ")
        return redaction.redact(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
