/// STAND-IN until the parallel loader lands: one loading job.
extension Configuration {
    public var restoreJobs: Int { 1 }
}
