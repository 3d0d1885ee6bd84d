import Foundation

/// The client side of SASL DIGEST-MD5 (RFC 2831), authentication only (qop=auth): what ZooKeeper's JAAS
/// `Client` section with a username and password (`DigestLoginModule`) makes the Java client speak. A pure
/// exchange: it is given the server's challenge and returns the next response; the caller carries the bytes.
///
/// Steps: the server's first challenge (realm, nonce, qop, charset, algorithm=md5-sess) is answered with the
/// digest response; its second (`rspauth=…`) is checked against the value the password implies, proving
/// the server knows it too; then the exchange is complete.
public struct DigestMD5: SASLMechanism {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// The server's challenge does not parse, or lacks what the mechanism needs.
        case badChallenge(String)
        /// The server does not offer authentication alone (qop=auth).
        case unsupportedQOP(String)
        /// The server's proof does not match: it does not know this password (or is not the server).
        case serverNotProven

        public var description: String {
            switch self {
            case .badChallenge(let why): return "the server's DIGEST-MD5 challenge is not usable: \(why)"
            case .unsupportedQOP(let offered): return "the server offers qop '\(offered)', and zkrunbook speaks qop=auth only"
            case .serverNotProven: return "the server's DIGEST-MD5 rspauth does not match the password: it is not the server that knows it"
            }
        }
    }

    public var username: String
    public var password: String
    /// `protocol/server`: ZooKeeper's server is created as `zookeeper` / `zk-sasl-md5`.
    public var digestURI: String
    /// The client nonce; random unless a test gives one.
    public var cnonce: String
    private var expectedProof: String?
    public private(set) var isComplete = false

    public init(username: String, password: String, digestURI: String = "zookeeper/zk-sasl-md5", cnonce: String? = nil) {
        (self.username, self.password, self.digestURI) = (username, password, digestURI)
        self.cnonce = cnonce ?? (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }

    mutating func respond(to challenge: [UInt8]) throws(SASLFailure) -> [UInt8] {
        do { return try answer(challenge) } catch { throw SASLFailure(description: error.description) }
    }

    /// The response to the server's `challenge`: the digest response first, then an empty response once the
    /// server's proof is checked (the exchange is then complete).
    public mutating func answer(_ challenge: [UInt8]) throws(Failure) -> [UInt8] {
        let fields = try Self.parse(String(decoding: challenge, as: UTF8.self))
        if let proof = expectedProof {
            guard fields["rspauth"] == proof else { throw .serverNotProven }
            isComplete = true
            return []
        }
        guard let nonce = fields["nonce"] else { throw .badChallenge("no nonce") }
        let offered = fields["qop"] ?? "auth"
        guard offered.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }).contains("auth") else {
            throw .unsupportedQOP(offered)
        }
        let realm = fields["realm"] ?? ""
        let count = "00000001"
        let response = Self.response(
            username: username, realm: realm, password: password, nonce: nonce, cnonce: cnonce, count: count, digestURI: digestURI,
            method: "AUTHENTICATE")
        expectedProof = Self.response(
            username: username, realm: realm, password: password, nonce: nonce, cnonce: cnonce, count: count, digestURI: digestURI, method: "")
        let words = [
            "charset=utf-8", "username=\(Self.quoted(username))", "realm=\(Self.quoted(realm))", "nonce=\(Self.quoted(nonce))", "nc=\(count)",
            "cnonce=\(Self.quoted(cnonce))", "digest-uri=\(Self.quoted(digestURI))", "maxbuf=65536", "response=\(response)", "qop=auth",
        ]
        return Array(words.joined(separator: ",").utf8)
    }

    /// RFC 2831 2.1.2.1 with qop=auth: `method` "AUTHENTICATE" for the client's response, "" for the server's
    /// rspauth.
    static func response(
        username: String, realm: String, password: String, nonce: String, cnonce: String, count: String, digestURI: String, method: String
    ) -> String {
        let secret = MD5.digest(Array("\(username):\(realm):\(password)".utf8))
        let a1 = secret + Array(":\(nonce):\(cnonce)".utf8)
        let a2 = "\(method):\(digestURI)"
        return MD5.hex(Array("\(MD5.hex(a1)):\(nonce):\(count):\(cnonce):auth:\(MD5.hex(Array(a2.utf8)))".utf8))
    }

    static func quoted(_ value: String) -> String {
        "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// `key=value, key="quoted, with \" escapes"` into a map; the first value of a key wins.
    static func parse(_ text: String) throws(Failure) -> [String: String] {
        var fields: [String: String] = [:]
        var index = text.startIndex
        func skip(_ characters: Set<Character>) { while index < text.endIndex, characters.contains(text[index]) { index = text.index(after: index) } }
        while true {
            skip([" ", "\t", ","])
            guard index < text.endIndex else { return fields }
            let keyStart = index
            while index < text.endIndex, text[index] != "=" { index = text.index(after: index) }
            guard index < text.endIndex else { throw .badChallenge("'\(text[keyStart...])' has no '='") }
            let key = text[keyStart..<index].trimmingCharacters(in: .whitespaces).lowercased()
            index = text.index(after: index)
            var value = ""
            if index < text.endIndex, text[index] == "\"" {
                index = text.index(after: index)
                var closed = false
                while index < text.endIndex {
                    let character = text[index]
                    index = text.index(after: index)
                    if character == "\\", index < text.endIndex {
                        value.append(text[index])
                        index = text.index(after: index)
                    } else if character == "\"" {
                        closed = true
                        break
                    } else {
                        value.append(character)
                    }
                }
                guard closed else { throw .badChallenge("an unterminated quoted value for '\(key)'") }
            } else {
                let valueStart = index
                while index < text.endIndex, text[index] != "," { index = text.index(after: index) }
                value = text[valueStart..<index].trimmingCharacters(in: .whitespaces)
            }
            if fields[key] == nil { fields[key] = value }
        }
    }
}
