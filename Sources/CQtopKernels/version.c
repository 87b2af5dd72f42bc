#include "qtop_kernels.h"
int qtop_kernels_abi_version(void) { return 2; }
