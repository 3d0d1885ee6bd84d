/// "Server environment:zookeeper.version=3.8.0-…": written once as the process starts; more than one in a log
/// is a restart, told apart from a counter reset (which writes none).
struct ServerStartSignature: LogSignature {
    let info = SignatureInfo(
        id: "server-start", token: "Server environment:zookeeper.version=", severity: .info, title: "The server process started", nextRunbook: nil,
        timeline: .start)

    func marks(_ line: ArraySlice<UInt8>) -> [TimelineMark] {
        let version = LineBytes.word(after: "zookeeper.version=", in: line).map { String($0.prefix { $0 != "-" && $0 != "," }) }
        return [TimelineMark(kind: .start, detail: "process started" + (version.map { ", ZooKeeper \($0)" } ?? ""))]
    }

    func judge(_ tally: SignatureTally) -> (severity: Finding.Severity, detail: String)? {
        tally.count > 1 ? (severity, "\(tally.count) starts: \(tally.count - 1) restart(s)") : nil
    }
}
