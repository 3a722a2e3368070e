/// A sidecar that cannot be read.
public struct SidecarError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
