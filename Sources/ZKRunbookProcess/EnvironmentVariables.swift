import Glibc

/// The named environment variables (those set), read with `getenv`: building Foundation's whole
/// environment dictionary to read one variable costs a short command a measurable part of its run.
public enum EnvironmentVariables {
    public static func values(of names: [String]) -> [String: String] {
        var found: [String: String] = [:]
        for name in names {
            if let value = getenv(name) { found[name] = String(cString: value) }
        }
        return found
    }
}
