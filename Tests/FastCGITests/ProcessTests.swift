import Testing

/// Everything that starts real processes (fcgi-echo, nginx, curl, spawn-fcgi) runs one test at a time:
/// the machine has two cores and several tests measure time.
@Suite(.serialized) enum ProcessTests {}
