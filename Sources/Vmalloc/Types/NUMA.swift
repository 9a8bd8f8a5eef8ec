/// `NUMA_NO_NODE` (include/linux/numa.h): no node preference (the allocating CPU's node first).
public let NUMA_NO_NODE = -1
