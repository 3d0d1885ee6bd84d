/// The ways a server fails to start that its log says in so many words: it cannot load its data folder, the
/// data folder holds transaction logs and no snapshot (a 3.4 data folder started by 3.5+), or a port it needs is
/// taken. Each names the fix an operator gives, never a destructive one on a guess.
enum StartFailureSignatures {
    /// "Unable to load database on disk" (QuorumPeer.loadDataBase): the server exits before it joins.
    static let databaseNotLoaded = FixedSignature(
        id: "database-not-loaded", token: "Unable to load database on disk", severity: .critical,
        title: "The server could not load its data folder and exited", nextRunbook: nil, timeline: .notServing,
        advice:
            "the lines before it say why (no snapshot after an upgrade from 3.4, a corrupt snapshot or log, a full disk); while the others serve, "
            + "rebuild this server from them (zkrunbook run replace-node --param server=ID: its data moved aside, kept) rather than delete anything")

    static let snapshotMarker = "problem reading snap file"

    /// "problem reading snap file …" (FileSnap, 3.4 to 3.9), then why: "CRC corruption", or "Unreasonable length"
    /// where garbage sits in a length. The server tries the next older snapshot; when none loads it cannot start.
    static let snapshotUnreadable = FixedSignature(
        id: "snapshot-unreadable", token: snapshotMarker, severity: .warning, title: "A snapshot file could not be read",
        nextRunbook: nil,
        advice:
            "the line after it says why (a CRC mismatch or an unreasonable length: a damaged file, or a znode larger than this server's "
            + "jute.maxbuffer); the server falls back to an older snapshot, and cannot start when none loads (database-not-loaded). "
            + "Keep the files; give every server the same jute.maxbuffer, or, while the others serve, rebuild this one from them "
            + "(zkrunbook run replace-node --param server=ID)")

    /// "No snapshot found, but there are log entries" (FileTxnSnapLog.restore, 3.5+): a data folder written by 3.4,
    /// whose followers that synced by diff never wrote a snapshot (ZOOKEEPER-3056).
    static let noSnapshot = FixedSignature(
        id: "no-snapshot-with-logs", token: "No snapshot found, but there are log entries", severity: .critical,
        title: "The data folder holds transaction logs and no snapshot (a 3.4 folder started by 3.5+)", nextRunbook: "rolling-upgrade",
        timeline: .notServing,
        advice:
            "set snapshot.trust.empty=true on this server for its next start (3.5.7 or later) and remove it once it has written a snapshot: "
            + "zkrunbook run rolling-upgrade does both, and re-syncs a server that still wrote none")

    /// "java.net.BindException: Address already in use": a port the server needs is held by another process.
    static let portInUse = FixedSignature(
        id: "port-in-use", token: "Address already in use", severity: .critical, title: "A port the server needs was already in use",
        nextRunbook: nil, timeline: .notServing,
        advice:
            "another process holds its client, quorum, election or AdminServer port (an old ZooKeeper still running, another service): "
            + "find it with `ss -ltnp`, stop it, and start this server again")
}

/// A server that could not write its transaction log: the thread that writes it died and the server exited.
enum WriteAheadLogSignatures {
    /// "Severe unrecoverable error, from thread : SyncThread:1" (ZooKeeperCriticalThread): a thread the server
    /// cannot run without died; the exception after it says why.
    static let criticalThread = FixedSignature(
        id: "critical-thread-died", token: "Severe unrecoverable error", severity: .critical,
        title: "A thread the server cannot run without died, and the server exited", nextRunbook: nil, timeline: .notServing,
        advice:
            "the exception on the next line says why; from SyncThread it is the transaction log's disk (failed, full, or a file-size limit): "
            + "fix that, then start the server again (it rejoins and catches up from the leader)")

    /// "java.io.IOException: File too large": a file-size limit (ulimit -f, systemd's LimitFSIZE) stopped a
    /// write, most often the transaction log's preallocation (64 MiB).
    static let fileTooLarge = FixedSignature(
        id: "file-size-limit", token: "File too large", severity: .critical,
        title: "A file-size limit stopped the server's writes", nextRunbook: nil, timeline: .diskFull,
        advice:
            "the server runs under a file-size limit (ulimit -f, LimitFSIZE= in its systemd unit) smaller than its transaction log "
            + "(preallocated 64 MiB): lift the limit (LimitFSIZE=infinity) and start it again; no data is lost that a quorum acknowledged")
}

/// How a running server lost its place: refused clients while not running, dropped by its leader, or stuck
/// electing. Counted and judged by how long and how often.
enum QuorumLossSignatures {
    /// "ZooKeeperServer not running" (NIOServerCnxn): a client connected while the server was not serving.
    static let notRunning = FixedSignature(
        id: "server-not-running", token: "ZooKeeperServer not running", severity: .warning,
        title: "Clients were turned away while the server was not running", nextRunbook: "health-check", timeline: .notServing,
        advice:
            "the server was starting, electing or without a quorum; clients retry the other servers. If it lasted, the election findings say why")

    /// "Exception when following the leader" (Follower): the follower lost its leader (a leader that froze past
    /// syncLimit, a network cut) and went back to electing.
    static let followerDropped = FixedSignature(
        id: "follower-dropped", token: "Exception when following the leader", severity: .warning,
        title: "A follower lost its leader and went back to electing", nextRunbook: "health-check", timeline: .connectionLoss,
        advice:
            "the leader stopped answering within syncLimit (a JVM pause, a frozen or overloaded leader, the network): see jvm-pause and the leader's log at that time"
    )
}

/// "Notification time out: 60000 ms" (FastLeaderElection): the wait for votes doubles each round up to 60 s, so a
/// long one is an election that does not end: this server cannot hear a majority.
struct ElectionStuckSignature: LogSignature {
    let info = SignatureInfo(
        id: "election-not-ending", token: "Notification time out: ", severity: .warning, title: "An election waited for votes that did not come",
        nextRunbook: "health-check", largestNumberAfter: "Notification time out: ")

    func marks(_ line: ArraySlice<UInt8>) -> [TimelineMark] { [] }

    /// A wait that never grew past this (a few rounds of 200 ms doubling: about 3 s of electing) is what every
    /// start and every leader change shows while the peers come up; seen on every real server here.
    static let ordinaryMs = 3_200

    func judge(_ tally: SignatureTally) -> (severity: Finding.Severity, detail: String)? {
        let longest = tally.largest ?? 0
        if longest < Self.ordinaryMs {
            return (.info, "\(tally.count) round(s) without a majority's votes, the wait never past \(longest) ms: as while peers start or a leader is chosen")
        }
        let stuck = longest >= 60_000
        return (
            stuck ? .critical : severity,
            "\(tally.count) round(s) without a majority's votes; the wait grew to \(longest) ms"
                + (stuck ? " (its maximum: the election does not end)" : "")
                + ": this server cannot hear a majority of voters: check the election ports between the servers (zkrunbook run health-check), and that a majority runs"
        )
    }
}
