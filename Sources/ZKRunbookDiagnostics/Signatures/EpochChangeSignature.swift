/// A snapshot at zxid 0x<epoch>00000000 is taken when a new epoch begins: the epochs in order.
struct EpochChangeSignature: LogSignature {
    let info = SignatureInfo(
        id: "epoch-change", token: "Snapshotting: 0x", severity: .info, title: "Epoch changes (a new leader's epoch began)", nextRunbook: nil,
        timeline: .epochChange)

    func measure(_ line: ArraySlice<UInt8>, into tally: inout SignatureTally) {
        guard let zxid = LineBytes.hex(after: "Snapshotting: 0x", in: line), zxid & 0xFFFF_FFFF == 0 else { return }
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
