import ZKRunbookJSON5

/// How a node's ZooKeeper version is changed (an ensemble file's `install` block, for the whole ensemble or
/// one node): the operator's mechanism, `${version}` standing for the release wanted. The way back is the same
/// mechanism with the version (or link target) recorded before the change.
///
/// ```json5
/// install: { link: "/opt/zookeeper/current", versions: "/opt/zookeeper-${version}" }   // side by side
/// install: { command: ["apt-get", "install", "-y", "--allow-downgrades", "zookeeper=${version}*"] }
/// ```
public enum InstallMethod: Sendable, Hashable, Codable {
    /// Releases unpacked side by side; the server runs the one `link` points at, switched atomically.
    case link(link: String, versions: String)
    /// A package manager (or any command) that installs `${version}`.
    case command([String])

    public static let versionMark = "${version}"

    public var layout: String {
        switch self {
        case .link: return "link"
        case .command: return "command"
        }
    }

    /// The `install` object of an ensemble file or node; nil (with a diagnostic) when it is neither layout.
    static func read(_ reader: ObjectReader) -> InstallMethod? {
        let link = reader.string("link")
        let versions = reader.string("versions")
        let command = reader.object["command"] == nil ? nil : EnsembleFile.strings(reader, "command")
        reader.finish()
        switch (link, versions, command) {
        case (let link?, let versions?, nil):
            guard versions.contains(versionMark) else {
                reader.diagnostics.error(
                    reader.object["versions"]!.location,
                    "'versions' must hold \(versionMark): where each release is unpacked, e.g. \"/opt/zookeeper-${version}\"")
                return nil
            }
            return .link(link: link, versions: versions)
        case (nil, nil, let command?):
            guard !command.isEmpty, command.contains(where: { $0.contains(versionMark) }) else {
                reader.diagnostics.error(
                    reader.object["command"]!.location,
                    "'command' must be a non-empty array with \(versionMark) in it, e.g. [\"apt-get\", \"install\", \"-y\", \"zookeeper=${version}*\"]")
                return nil
            }
            return .command(command)
        default:
            reader.diagnostics.error(
                reader.location,
                "'install' takes either link and versions (releases side by side: { link: \"/opt/zookeeper/current\", versions: \"/opt/zookeeper-${version}\" }) or command (an install command with ${version})"
            )
            return nil
        }
    }
}
