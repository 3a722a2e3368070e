/// A client mistake with its own status (400, 415…).
struct RequestError: Error {
    let status: Int
    let code: String
    let detail: String
    init(_ status: Int, _ code: String, _ detail: String) {
        self.status = status
        self.code = code
        self.detail = detail
    }
}
