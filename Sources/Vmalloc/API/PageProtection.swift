/// Access rights of a vmap mapping (`PAGE_KERNEL`, `PAGE_KERNEL_RO`, `PAGE_NONE`).
public enum PageProtection: Sendable, Hashable {
    case readWrite, readOnly, none
    var shimValue: Int32 {
        switch self {
        case .readWrite: 3
        case .readOnly: 1
        case .none: 0
        }
    }
}
