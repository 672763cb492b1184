#ifndef RADONFS_CFUSE3_SHIM_H
#define RADONFS_CFUSE3_SHIM_H
#define FUSE_USE_VERSION 312
#include <fuse3/fuse_lowlevel.h>
#endif
