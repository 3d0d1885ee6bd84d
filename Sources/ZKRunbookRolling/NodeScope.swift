import ZKRunbookAgent
import ZKRunbookEngine
import ZKRunbookZooKeeper

extension EnsembleFile {
    /// The `${node.*}` values of a per-node procedure on `member`, as the engine takes them.
    func scope(of member: EnsembleNode) -> NodeFields {
        NodeFields(
            text: nodeFields(member),
            words: ["restartCommand": restartCommand(for: member), "stopCommand": stopCommand(for: member), "installCommand": installCommand(for: member)])
    }
}
