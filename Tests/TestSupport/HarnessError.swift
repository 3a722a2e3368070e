import Foundation

/// A test could not be set up or run as planned: a tool is missing, a helper command failed, a process did not
/// start. A failed assertion is an `#expect`; this is the harness saying it could not get that far.
package enum HarnessError: Error, CustomStringConvertible {
    case missingTool(String)
    case cannotStart(String, Int32)
    case commandFailed(String, ProcessResult)
    case setup(String)

    package var description: String {
        switch self {
        case .missingTool(let name): "\(name) is not installed or not on PATH"
        case .cannotStart(let path, let code): "cannot start \(path): \(String(cString: strerror(code)))"
        case .commandFailed(let what, let result): "\(what) failed: \(result)"
        case .setup(let message): message
        }
    }
}
