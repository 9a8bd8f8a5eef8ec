// libFuzzer's driver, called from the fuzz target's own `main`: SwiftPM links executables with
// `main` bound to `<module>_main`, so libFuzzer's `main` is never the entry point.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
