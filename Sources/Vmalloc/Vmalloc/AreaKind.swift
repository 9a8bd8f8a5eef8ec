/// The kind of owner an area has; decides which free function may release it.
enum AreaKind: Sendable {
    case vmalloc, vmap, vmMapRam
    var freeFunction: String {
        switch self {
        case .vmalloc: "vfree()"
        case .vmap: "vunmap()"
        case .vmMapRam: "vm_unmap_ram()"
        }
    }
}
