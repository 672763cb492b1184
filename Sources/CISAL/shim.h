#ifndef RADONFS_CISAL_SHIM_H
#define RADONFS_CISAL_SHIM_H
#include <isa-l/erasure_code.h>
#include <isa-l/crc.h>
#endif
