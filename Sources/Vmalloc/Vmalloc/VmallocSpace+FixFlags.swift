extension VmallocSpace {
    /// Bits vmalloc accepts from callers that pass a mask of their own (`GFP_VMALLOC_SUPPORTED`
    /// in mm/vmalloc.c): `GFP_KERNEL | GFP_ATOMIC | GFP_NOWAIT | __GFP_NOFAIL | __GFP_ZERO |
    /// __GFP_NORETRY | __GFP_RETRY_MAYFAIL | GFP_NOFS | GFP_NOIO | GFP_KERNEL_ACCOUNT | GFP_USER |
    /// __GFP_NOLOCKDEP`. Zone and mobility modifiers, `__GFP_THISNODE` and the reserve bits are
    /// not in it.
    static let vmallocSupported: GFP = [
        .kernel, .atomic, .nowait, .noFail, .zero, .noRetry, .retryMayFail, .nofs, .noio, .kernelAccount, .user,
        .noLockdep,
    ]

    /// `vmalloc_fix_flags`: mask off what `vmallocSupported` lacks, warning once per call site.
    /// The kernel runs it only in `__vmalloc_noprof` (so also `__vmalloc_array`, `vmalloc_array`,
    /// `vcalloc`) and `vmalloc_huge_node_noprof`; `__vmalloc_node`, `vmalloc_node`, the
    /// kvmalloc fallback and the internal callers hand their mask on unfiltered.
    func vmallocFixFlags(_ gfp: GFP, _ site: CallSite) -> GFP {
        let fixed = gfp.intersection(Self.vmallocSupported)
        if fixed != gfp {
            // The kernel's form: "%#x (%pGg)", with a space, unlike the failure report's mode.
            let bad = gfp.subtracting(fixed)
            let hexBad = String(bad.rawValue, radix: 16)
            let hexFixed = String(fixed.rawValue, radix: 16)
            log.warnOnce(
                "Unexpected gfp: 0x\(hexBad) (\(bad)). Fixing up to gfp: 0x\(hexFixed) (\(fixed)). "
                    + "Fix your code!", site: "gfp-fixup@\(site)")
        }
        return fixed
    }
}
