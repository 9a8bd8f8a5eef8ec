/// `NUMA_NO_NODE`: no node preference (the allocating CPU's node first).
public let NUMA_NO_NODE = -1
