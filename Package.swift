// swift-tools-version:6.0
import PackageDescription

/// zkrunbook: a runbook automation agent for Apache ZooKeeper ensembles.
///
/// Only what the toolchain ships is used (Foundation, Dispatch, Glibc, XCTest, Swift Testing):
/// the agent must install as one static binary on a production node.
let package = Package(
    name: "zkrunbook",
    products: [
        .executable(name: "zkrunbook", targets: ["zkrunbook"]),
        .executable(name: "zkrunbook-bench", targets: ["zkrunbook-bench"]),
    ],
    targets: [
        // Process hygiene: spawning, draining, timeouts, process-group teardown, signals.
        .target(name: "ZKRunbookProcess", dependencies: ["CZKRunbookBytes"]),
        // Reading configuration: the JSON5 parser with positions, diagnostics (file:line:column), the object reader.
        .target(name: "ZKRunbookJSON5"),
        // The step engine: JSON5 runbooks -> validated model -> plan -> execution -> events.
        .target(name: "ZKRunbookEngine", dependencies: ["ZKRunbookJSON5", "ZKRunbookProcess", "CZKRunbookBytes"]),
        // Byte work at the machine's speed, in our own C: SHA-256 blocks with the CPU's SHA extensions, the
        // search for many fixed tokens at once (doctor's log signatures) with SIMD compares, and the kernel calls
        // Swift's Glibc module does not show (copy_file_range, sync_file_range, pidfd_open).
        .target(name: "CZKRunbookBytes"),
        // TLS client connections through the system's OpenSSL 3, loaded at run time (dlopen): the binary starts
        // and does all plaintext work where libssl.so.3 is absent.
        .target(name: "CZKRunbookTLS", linkerSettings: [.linkedLibrary("dl")]),
        // Reaching nodes: the ssh transport (OpenSSH client through Process).
        .target(name: "ZKRunbookTransport", dependencies: ["ZKRunbookProcess"]),
        // ZooKeeper knowledge, knowing nothing of runbooks: four-letter words, AdminServer, typed facts, zoo.cfg,
        // quorum maths, membership, the ensemble file and view.
        .target(name: "ZKRunbookZooKeeper", dependencies: ["CZKRunbookBytes", "CZKRunbookTLS", "ZKRunbookJSON5", "ZKRunbookProcess"]),
        // The conductor–agent protocol: typed requests to a node's agent (one table of words the CLI parses too),
        // their Codable replies, and the node lease they carry (record, policy, store, check).
        .target(name: "ZKRunbookAgent", dependencies: ["ZKRunbookEngine", "ZKRunbookProcess", "ZKRunbookTransport", "ZKRunbookZooKeeper"]),
        // ZooKeeper knowledge put to work in runbooks: the zk-* actions (one per file in Actions/), their facts,
        // and the failover's file work.
        .target(
            name: "ZKRunbookZooKeeperActions",
            dependencies: [
                "ZKRunbookAgent", "ZKRunbookEngine", "ZKRunbookJSON5", "ZKRunbookProcess", "ZKRunbookTransport", "ZKRunbookZooKeeper", "ZKRunbookClient",
            ]),
        // ZooKeeper's own client protocol (jute over TCP), written here: sessions, znodes, multi, sync, reconfig.
        .target(name: "ZKRunbookClient", dependencies: ["ZKRunbookZooKeeper"]),
        // A throwaway ensemble on loopback from ZooKeeper's jars (tests, CI, the quick start).
        .target(name: "ZKRunbookSandbox", dependencies: ["ZKRunbookAgent", "ZKRunbookProcess", "ZKRunbookZooKeeper"]),
        // Driving many nodes: the node-side agent over a transport, and the rolling restart.
        .target(
            name: "ZKRunbookRolling",
            dependencies: [
                "ZKRunbookAgent", "ZKRunbookEngine", "ZKRunbookProcess", "ZKRunbookTransport", "ZKRunbookJSON5", "ZKRunbookZooKeeper",
                "ZKRunbookZooKeeperActions",
            ]),
        // Diagnostics: the support bundle (redaction, manifest, streaming .tar.gz).
        .target(
            name: "ZKRunbookDiagnostics",
            dependencies: [
                "ZKRunbookAgent", "CZKRunbookBytes", "ZKRunbookEngine", "ZKRunbookJSON5", "ZKRunbookProcess", "ZKRunbookZooKeeper", "ZKRunbookZooKeeperActions",
            ]),
        // Argument parsing, commands and renderers; the executable only calls into this.
        .target(
            name: "ZKRunbookCLI",
            dependencies: [
                "ZKRunbookAgent", "ZKRunbookEngine", "ZKRunbookJSON5", "ZKRunbookProcess", "ZKRunbookZooKeeper", "ZKRunbookZooKeeperActions",
                "ZKRunbookRolling",
                "ZKRunbookDiagnostics", "ZKRunbookSandbox", "ZKRunbookClient",
            ]),
        .executableTarget(name: "zkrunbook", dependencies: ["ZKRunbookCLI"]),
        .executableTarget(
            name: "zkrunbook-bench",
            dependencies: [
                "ZKRunbookEngine", "ZKRunbookProcess", "ZKRunbookCLI", "ZKRunbookClient", "ZKRunbookZooKeeper", "ZKRunbookDiagnostics", "ZKRunbookSandbox",
            ]),
        // What every test suite shares: scratch folders, polling, the binary harness, the sandbox and sshd
        // fixtures, an in-memory scripted action. Test code, never linked into the binary.
        .target(
            name: "ZKRunbookTestSupport", dependencies: ["ZKRunbookEngine", "ZKRunbookProcess", "ZKRunbookZooKeeper", "ZKRunbookSandbox"],
            path: "Tests/ZKRunbookTestSupport"),
        .testTarget(name: "ZKRunbookProcessTests", dependencies: ["ZKRunbookTestSupport", "ZKRunbookProcess"]),
        .testTarget(
            name: "ZKRunbookEngineTests", dependencies: ["ZKRunbookTestSupport", "ZKRunbookJSON5", "ZKRunbookEngine", "ZKRunbookProcess", "ZKRunbookAgent"]),
        .testTarget(
            name: "ZKRunbookZooKeeperTests",
            dependencies: [
                "ZKRunbookTestSupport", "ZKRunbookJSON5", "ZKRunbookZooKeeper", "ZKRunbookZooKeeperActions", "ZKRunbookSandbox", "ZKRunbookEngine",
                "ZKRunbookProcess",
            ]),
        .testTarget(
            name: "ZKRunbookRollingTests",
            dependencies: [
                "ZKRunbookAgent", "ZKRunbookTestSupport", "ZKRunbookJSON5", "ZKRunbookRolling", "ZKRunbookTransport", "ZKRunbookZooKeeper",
                "ZKRunbookZooKeeperActions", "ZKRunbookEngine", "ZKRunbookProcess",
            ]),
        .testTarget(
            name: "ZKRunbookDiagnosticsTests",
            dependencies: [
                "ZKRunbookTestSupport", "ZKRunbookDiagnostics", "ZKRunbookZooKeeper", "ZKRunbookZooKeeperActions", "ZKRunbookEngine", "ZKRunbookProcess",
            ]),
        .testTarget(name: "ZKRunbookClientTests", dependencies: ["ZKRunbookTestSupport", "ZKRunbookClient", "ZKRunbookZooKeeper"]),
        .testTarget(name: "ZKRunbookCLITests", dependencies: ["ZKRunbookTestSupport", "ZKRunbookCLI", "ZKRunbookEngine", "ZKRunbookSandbox"]),
    ]
)
