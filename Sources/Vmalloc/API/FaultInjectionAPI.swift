extension MemorySystem {
    /// Arm fault injection at `site` (nil disarms it), like writing the kernel's
    /// `/sys/kernel/debug/fail_*` knobs. Every injected failure must end in a clean nil (or a
    /// retry for NOFAIL) with nothing lost.
    public func setFaultInjection(_ site: FaultSite, _ attributes: FaultAttributes?) {
        faults.set(site, attributes)
    }

    /// How many failures were injected at `site` since it was armed.
    public func injectedFaults(_ site: FaultSite) -> Int { faults.injected(site) }
}
