import Foundation

extension Errno {
    static func message(_ code: Int32) -> String { String(cString: strerror(code)) }
}

enum Errno {}
