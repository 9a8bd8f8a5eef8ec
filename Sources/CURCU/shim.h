// liburcu, bulletproof flavour: readers register themselves on first use.
#include <urcu-bp.h>
