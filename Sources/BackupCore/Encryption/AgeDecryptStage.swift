/// Decrypts an age file with `age -d -i IDENTITY_FILE` and writes the plaintext to `next`. age checks every 64 KiB
/// chunk's tag as it goes; a damaged chunk stops it after the earlier ones went out, so only its exit status
/// (`finish`) says the whole file was sound — a restore commits after that, never before.
final class AgeDecryptStage: ByteStage {
    private let child: ChildProcessStage

    init(identity: AgeIdentity, tool: AgeTool, next: ByteStage) throws {
        child = try ChildProcessStage(tool.decryptCommand(identityFile: identity.path), name: "age-decrypt",
                                      next: next) { ended, stderr in AgeError.decryptFailed(AgeError.message(ended, stderr)) }
    }

    func write(_ chunk: UnsafeRawBufferPointer) throws { try child.write(chunk) }

    func finish() throws { try child.finish() }

    /// Stops age after a failure elsewhere, before what `next` writes to is closed (see `ChildProcessStage.cancel`).
    func cancel() { child.cancel() }
}
