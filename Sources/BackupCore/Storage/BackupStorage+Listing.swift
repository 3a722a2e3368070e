/// What counts as a backup, in any store: a dump with a sidecar that parses, names it and sits beside a dump
/// that is an ordinary object.
extension BackupStorage {
    func listing() throws -> BackupListing {
        let names = try self.names()
        let present = Set(names)
        var backups: [BackupMetadata] = []
        var damaged: [(String, String)] = []
        var orphans: [String] = []
        for name in names where BackupName.isValid(name) {
            guard present.contains(Self.sidecarName(name)) else {
                orphans.append(name)
                continue
            }
            switch readMetadata(name) {
            case let .success(metadata): backups.append(metadata)
            case let .failure(error): damaged.append((name, error.description))
            }
        }
        for name in names where BackupName.isSidecar(name) {
            let dump = String(name.dropLast(5))
            if BackupName.isValid(dump), !present.contains(dump) {
                damaged.append((dump, "the backup file is missing; only its metadata is left"))
            }
        }
        backups.sort { $0.createdAt != $1.createdAt ? $0.createdAt > $1.createdAt : $0.filename > $1.filename }
        return BackupListing(backups: backups, damaged: damaged.sorted { $0.0 > $1.0 }, orphans: orphans.sorted(by: >))
    }

    /// Reads and checks one sidecar: it must parse, name its own file, and sit next to an ordinary dump.
    func readMetadata(_ name: String) -> Result<BackupMetadata, SidecarError> {
        do {
            guard let bytes = try readSidecar(name) else { return .failure(SidecarError("metadata file is missing")) }
            let metadata = try BackupMetadata.parse(bytes)
            guard metadata.filename == name else {
                return .failure(SidecarError("metadata names another file ('\(metadata.filename)')"))
            }
            guard dumpSize(name) != nil else {
                return .failure(SidecarError("the backup file is missing or not a regular file"))
            }
            return .success(metadata)
        } catch let error as SidecarError {
            return .failure(error)
        } catch {
            return .failure(SidecarError("\(error)"))
        }
    }

    /// The metadata of a complete backup, or `notFound`.
    func metadata(_ name: String) throws -> BackupMetadata {
        guard hasSidecar(name) || hasDump(name) else { throw BackupError.notFound(name) }
        switch readMetadata(name) {
        case let .success(metadata): return metadata
        case let .failure(error):
            guard hasSidecar(name) else {
                throw BackupError.verificationFailed(name: name, reason: "it has no metadata file (an incomplete backup)")
            }
            throw BackupError.verificationFailed(name: name, reason: error.description)
        }
    }
}
