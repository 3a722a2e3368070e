/// Encrypts what it is handed with `age -e -R RECIPIENTS_FILE` (to every recipient in the file) and writes the
/// age file to `next`. age runs as a child in the stream (see `ChildProcessStage`): nothing is buffered whole, and
/// no plaintext byte goes anywhere but age's stdin.
final class AgeEncryptStage: ByteStage {
    private let child: ChildProcessStage

    init(recipients: AgeRecipients, tool: AgeTool, next: ByteStage) throws {
        child = try ChildProcessStage(tool.encryptCommand(recipientsFile: recipients.path), name: "age-encrypt",
                                      next: next) { ended, stderr in AgeError.encryptFailed(AgeError.message(ended, stderr)) }
    }

    func write(_ chunk: UnsafeRawBufferPointer) throws { try child.write(chunk) }

    func finish() throws { try child.finish() }

    /// Stops age after a failure elsewhere, before what `next` writes to is closed (see `ChildProcessStage.cancel`).
    func cancel() { child.cancel() }
}
