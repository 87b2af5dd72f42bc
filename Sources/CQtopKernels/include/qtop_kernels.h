#ifndef QTOP_KERNELS_H
#define QTOP_KERNELS_H
int qtop_kernels_abi_version(void);
#endif
