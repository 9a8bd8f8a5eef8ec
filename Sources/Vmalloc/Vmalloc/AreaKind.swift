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

    /// Whether the free function of `self` releases an area of `kind`: `vfree` releases `vmap`
    /// areas too, since the kernel's `vfree` removes any area that has a `vm_struct` (a
    /// `vm_map_ram` area has none).
    func releases(_ kind: AreaKind) -> Bool { kind == self || (self == .vmalloc && kind == .vmap) }
}
