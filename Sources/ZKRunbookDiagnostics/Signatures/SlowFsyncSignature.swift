/// "fsync-ing the write ahead log in SyncThread:1 took 1377ms": a disk too slow for the transaction log.
struct SlowFsyncSignature: LogSignature {
    let info = SignatureInfo(
        id: "slow-fsync", token: "fsync-ing the write ahead log", severity: .warning, title: "Slow fsync of the transaction log",
        nextRunbook: "collect-diagnostics",
        largestNumberAfter: " took ", timeline: .slowFsync)

    func judge(_ tally: SignatureTally) -> (severity: Finding.Severity, detail: String)? {
        (severity, tally.largest.map { "\(tally.count) slow fsync(s); the slowest took \($0) ms" } ?? "\(tally.count) line(s)")
    }
}
