import CVmallocKernel
import Glibc
import Vmalloc

// The vmalloc family behind <linux/vmalloc.h> and <linux/set_memory.h> (mm/vmalloc.c). The C
// layer passes each allocation's return address as `caller`; it shows in vmallocinfo as %pS.

@c @implementation
public func vmc_vmalloc_node(
    _ size: Int, _ align: Int, _ gfp: UInt32, _ node: Int32, _ fixFlags: Int32, _ huge: Int32,
    _ caller: UnsafeRawPointer?
) -> UnsafeMutableRawPointer? {
    system.vmallocNode(
        size, align: align, GFP(rawValue: gfp), node: Int(node), fixFlags: fixFlags != 0, huge: huge != 0,
        site: CallSite(caller))
}

@c @implementation
public func vmc_vrealloc(_ p: UnsafeMutableRawPointer?, _ size: Int, _ gfp: UInt32, _ caller: UnsafeRawPointer?)
    -> UnsafeMutableRawPointer?
{
    system.vreallocNode(p, size, GFP(rawValue: gfp), site: CallSite(caller))
}

@c @implementation
public func vmc_vfree(_ p: UnsafeRawPointer?) { system.vfree(UnsafeMutableRawPointer(mutating: p)) }

@c @implementation
public func vmc_vfree_atomic(_ p: UnsafeRawPointer?) {
    system.vfree_atomic(UnsafeMutableRawPointer(mutating: p))
}

@c @implementation
public func vmc_vmap(
    _ pages: UnsafePointer<UnsafeMutableRawPointer?>?, _ count: UInt32, _ flags: UInt, _ prot: Int32,
    _ caller: UnsafeRawPointer?
) -> UnsafeMutableRawPointer? {
    guard let frames = system.pages(pages, Int(count), "vmap") else { return nil }
    let protection: PageProtection =
        switch prot {
        case 0: .none
        case 1: .readOnly
        default: .readWrite
        }
    // With VM_MAP_PUT_PAGES the area takes the array too (the kernel's vfree kvfrees it).
    return system.vmap(
        frames, VMFlags(rawValue: UInt32(truncatingIfNeeded: flags)), protection,
        pageArray: UnsafeMutableRawPointer(mutating: pages), site: CallSite(caller))
}

@c @implementation
public func vmc_vunmap(_ p: UnsafeRawPointer?) { system.vunmap(UnsafeMutableRawPointer(mutating: p)) }

@c @implementation
public func vmc_vm_map_ram(
    _ pages: UnsafePointer<UnsafeMutableRawPointer?>?, _ count: UInt32, _ node: Int32, _ caller: UnsafeRawPointer?
) -> UnsafeMutableRawPointer? {
    guard let frames = system.pages(pages, Int(count), "vm_map_ram") else { return nil }
    return system.vm_map_ram(frames, Int(node), site: CallSite(caller))
}

@c @implementation
public func vmc_vm_unmap_ram(_ p: UnsafeRawPointer?, _ count: UInt32) {
    guard let p else { return }
    system.vm_unmap_ram(UnsafeMutableRawPointer(mutating: p), Int(count))
}

@c @implementation
public func vmc_vmalloc_to_page(_ p: UnsafeRawPointer?) -> UnsafeMutableRawPointer? {
    guard let p, let page = system.vmalloc_to_page(p) else { return nil }
    return system.pagePointer(page)
}

@c @implementation
public func vmc_is_vmalloc_addr(_ p: UnsafeRawPointer?) -> Int32 { system.is_vmalloc_addr(p) ? 1 : 0 }

@c @implementation
public func vmc_vm_unmap_aliases() { system.vm_unmap_aliases() }

@c @implementation
public func vmc_find_vm_area(_ p: UnsafeRawPointer?, _ out: UnsafeMutablePointer<vmc_area_info>?) -> Int32 {
    guard let p, let out, let (area, caller) = system.findVMArea(p) else { return 0 }
    out.pointee = vmc_area_info(
        addr: UnsafeMutableRawPointer(mutating: area.addr), size: UInt(area.size),
        requested_size: UInt(area.requestedSize), flags: UInt(area.flags.rawValue),
        nr_pages: UInt32(area.nrPages), caller: caller.address)
    return 1
}

@c @implementation
public func vmc_set_memory(_ addr: UInt, _ numpages: Int32, _ which: Int32) -> Int32 {
    guard let p = UnsafeMutableRawPointer(bitPattern: addr) else { return -EINVAL }
    let n = Int(numpages)
    switch which {
    case 0: return system.set_memory_ro(p, n)
    case 1: return system.set_memory_rw(p, n)
    case 2: return system.set_memory_x(p, n)
    default: return system.set_memory_nx(p, n)
    }
}

@c @implementation
public func vmc_set_vm_flush_reset_perms(_ addr: UnsafeMutableRawPointer?) {
    guard let addr else { return }
    system.set_vm_flush_reset_perms(addr)
}
