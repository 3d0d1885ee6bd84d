/// "java.io.IOException: No space left on device" (after "Severe unrecoverable error, from thread :
/// SyncThread:1"): the server could not write its transaction log or a snapshot, and stops serving.
struct DiskFullSignature: LogSignature {
    let info = SignatureInfo(
        id: "disk-full", token: "No space left on device", severity: .critical, title: "A disk filled up: the server could not write its data",
        nextRunbook: "purge", timeline: .diskFull)

    func judge(_ tally: SignatureTally) -> (severity: Finding.Severity, detail: String)? {
        (
            severity,
            "\(tally.count) line(s): ZooKeeper stops the thread that writes, so this server stops serving (a leader gives up its quorum); "
                + "free space (zkrunbook run purge keeps the newest snapshots and the logs they need), turn autopurge on, give dataLogDir a disk of its own"
        )
    }
}
