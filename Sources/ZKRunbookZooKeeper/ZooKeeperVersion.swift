/// A ZooKeeper release number, as srvr says it ("3.8.0-5a02a05…, built on 2022-02-25 08:49 UTC") or an operator
/// writes it ("3.9.3"): compared by its numbers, the build text after them left out.
public struct ZooKeeperVersion: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public var patch: Int

    public init(_ major: Int, _ minor: Int, _ patch: Int) { (self.major, self.minor, self.patch) = (major, minor, patch) }

    /// The leading `X.Y.Z` of `text`; nil when it does not start with three numbers.
    public init?(_ text: String) {
        let head = text.trimmingCharacters(in: .whitespaces).prefix { $0.isNumber || $0 == "." }
        let numbers = head.split(separator: ".", omittingEmptySubsequences: false).map { Int($0) }
        guard numbers.count == 3, let major = numbers[0], let minor = numbers[1], let patch = numbers[2] else { return nil }
        (self.major, self.minor, self.patch) = (major, minor, patch)
    }

    public var description: String { "\(major).\(minor).\(patch)" }
    /// "3.8": the release line.
    public var line: String { "\(major).\(minor)" }

    public static func < (a: ZooKeeperVersion, b: ZooKeeperVersion) -> Bool { (a.major, a.minor, a.patch) < (b.major, b.minor, b.patch) }

    public func isSameLine(as other: ZooKeeperVersion) -> Bool { major == other.major && minor == other.minor }
}

extension ZooKeeperVersion {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let version = ZooKeeperVersion(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a version: \(text)"))
        }
        self = version
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
