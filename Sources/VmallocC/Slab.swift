import CVmallocKernel
import Vmalloc

// kmalloc and kvmalloc behind <linux/slab.h> (mm/slub.c, mm/util.c).

@c @implementation
public func vmc_kmalloc(_ size: Int, _ gfp: UInt32, _ node: Int32) -> UnsafeMutableRawPointer? {
    system.kmallocNode(size, GFP(rawValue: gfp), node: Int(node), site: CallSite(nil))
}

@c @implementation
public func vmc_kfree(_ p: UnsafeRawPointer?) { system.kfree(UnsafeMutableRawPointer(mutating: p)) }

@c @implementation
public func vmc_ksize(_ p: UnsafeRawPointer?) -> Int { system.ksize(p) }

@c @implementation
public func vmc_krealloc(_ p: UnsafeRawPointer?, _ size: Int, _ gfp: UInt32) -> UnsafeMutableRawPointer? {
    system.kreallocNode(
        UnsafeMutableRawPointer(mutating: p), size, GFP(rawValue: gfp), site: CallSite(nil))
}

@c @implementation
public func vmc_kvmalloc(_ size: Int, _ gfp: UInt32, _ node: Int32, _ caller: UnsafeRawPointer?)
    -> UnsafeMutableRawPointer?
{
    system.kvmallocNode(size, GFP(rawValue: gfp), node: Int(node), site: CallSite(caller))
}

@c @implementation
public func vmc_kvrealloc(_ p: UnsafeRawPointer?, _ size: Int, _ gfp: UInt32, _ caller: UnsafeRawPointer?)
    -> UnsafeMutableRawPointer?
{
    system.kvreallocNode(
        UnsafeMutableRawPointer(mutating: p), size, GFP(rawValue: gfp), site: CallSite(caller))
}

@c @implementation
public func vmc_kvfree(_ p: UnsafeRawPointer?) { system.kvfree(UnsafeMutableRawPointer(mutating: p)) }
