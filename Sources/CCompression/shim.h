#ifndef KAFKATAPE_CCOMPRESSION_SHIM_H
#define KAFKATAPE_CCOMPRESSION_SHIM_H
#include <zlib.h>
#include <zstd.h>
#include <lz4.h>
#include <lz4frame.h>
#include <snappy-c.h>
#endif
