/// The epochs in order, from the zxid of every snapshot a server logs ("Snapshotting: 0x200000009"): a busy
/// ensemble's new leader snapshots at the last zxid of the old epoch, and the first snapshot of the new one
/// comes thousands of transactions later, so any snapshot's epoch counts, not only one at 0x<epoch>00000000.
/// On the timeline an epoch begins where a leader starts it (`LeaderEpochSignature`) or at a 0x<epoch>00000000
/// snapshot.
struct EpochChangeSignature: LogSignature {
    let info = SignatureInfo(
        id: "epoch-change", token: "Snapshotting: 0x", severity: .info, title: "Epoch changes (a new leader's epoch began)", nextRunbook: nil,
        timeline: .epochChange)

    func measure(_ line: ArraySlice<UInt8>, into tally: inout SignatureTally) {
        guard let zxid = LineBytes.hex(after: "Snapshotting: 0x", in: line) else { return }
        let epoch = zxid >> 32
        if tally.sequence.last != epoch, tally.sequence.count < 50 { tally.sequence.append(epoch) }
    }

    func marks(_ line: ArraySlice<UInt8>) -> [TimelineMark] {
        // The empty tree's snapshot at 0x0, written at first start, begins no epoch.
        guard let zxid = LineBytes.hex(after: "Snapshotting: 0x", in: line), zxid & 0xFFFF_FFFF == 0, zxid != 0 else { return [] }
        return [TimelineMark(kind: .epochChange, detail: "epoch \(zxid >> 32) began")]
    }

    func judge(_ tally: SignatureTally) -> (severity: Finding.Severity, detail: String)? {
        guard tally.sequence.count > 1 else { return nil }
        return (severity, "\(tally.sequence.count - 1) epoch change(s): " + tally.sequence.map { String($0) }.joined(separator: " → "))
    }
}

/// "Have quorum of supporters, sids: [[1, 3]]; starting up and setting last processed zxid: 0x300000000"
/// (Leader.lead): the moment a leader begins its epoch, on the timeline, and the epochs this server led.
struct LeaderEpochSignature: LogSignature {
    let info = SignatureInfo(
        id: "leader-epoch", token: "setting last processed zxid: 0x", severity: .info, title: "Epochs this server led", nextRunbook: nil,
        timeline: .epochChange)

    func marks(_ line: ArraySlice<UInt8>) -> [TimelineMark] {
        guard let zxid = LineBytes.hex(after: "setting last processed zxid: 0x", in: line), zxid >> 32 > 0 else { return [] }
        return [TimelineMark(kind: .epochChange, detail: "epoch \(zxid >> 32) began (this server leads it)")]
    }

    func measure(_ line: ArraySlice<UInt8>, into tally: inout SignatureTally) {
        guard let zxid = LineBytes.hex(after: "setting last processed zxid: 0x", in: line), zxid >> 32 > 0, tally.sequence.count < 50 else { return }
        tally.sequence.append(zxid >> 32)
    }

    func judge(_ tally: SignatureTally) -> (severity: Finding.Severity, detail: String)? {
        guard !tally.sequence.isEmpty else { return nil }
        return (severity, "it led epoch(s) " + tally.sequence.map { String($0) }.joined(separator: ", ") + ": each began with an election it won")
    }
}
