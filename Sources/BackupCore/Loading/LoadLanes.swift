/// Where a parallel load's splitter (`DumpSplitter`) sends what it cut: a few lanes (psql sessions on the new
/// database), each running what it is sent in order, and barriers that return once every lane ran all it was sent.
/// `PsqlLanes` is the real one; the tests record what each lane got.
protocol LoadLanes: AnyObject {
    /// How many lanes there are (at least 1); lane 0 takes everything that must run in order.
    var count: Int { get }
    /// Queues `bytes` (whole lines, or the next part of a COPY's rows) for `lane`; may wait until it has room.
    func send(_ bytes: UnsafeRawBufferPointer, to lane: Int) throws
    /// Returns once every lane ran everything sent to it so far.
    func barrier() throws
    /// The lane the next chunk of rows should go to (the least busy one; may wait until one has room).
    func pickLane() -> Int
    /// Whether `lane` has enough queued (with `pending` bytes about to be sent) that rows should move on.
    func isBusy(_ lane: Int, adding pending: Int) -> Bool
    /// Hands what is queued to whichever lane can take it now, without waiting (called after each input chunk).
    func kick() throws
    /// Asks `lane` to report once it ran everything sent to it so far; returns the report's number on that lane.
    func mark(_ lane: Int) throws -> Int
    /// Whether `lane` reported its `mark`-th report (so it ran all sent before it).
    func reached(_ lane: Int, mark: Int) -> Bool
    /// Hands on everything queued, then returns once some lane reported a mark (or after a while: callers
    /// look again). Throws when a lane stopped.
    func waitForProgress() throws
}

extension LoadLanes {
    func send(_ bytes: [UInt8], to lane: Int) throws {
        try bytes.withUnsafeBytes { try send($0, to: lane) }
    }

    func sendToAll(_ bytes: [UInt8]) throws {
        for lane in 0..<count { try send(bytes, to: lane) }
    }
}
