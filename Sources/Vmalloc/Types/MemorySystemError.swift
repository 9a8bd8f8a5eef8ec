/// Why a `MemorySystem` could not be built. Nothing is left mapped or open when it is thrown.
public enum MemorySystemError: Error, Equatable, CustomStringConvertible {
    /// The configuration cannot work (0 nodes, too little memory, a region too large ...).
    case invalidConfiguration(String)
    /// A system call failed while building the system.
    case systemCallFailed(String, errno: Int32)

    public var description: String {
        switch self {
        case .invalidConfiguration(let why): "invalid configuration: \(why)"
        case .systemCallFailed(let call, let e): "\(call) failed: errno \(e)"
        }
    }
}
