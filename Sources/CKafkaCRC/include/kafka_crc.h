#ifndef KAFKATAPE_CRC_H
#define KAFKATAPE_CRC_H
#include <stddef.h>
#include <stdint.h>

/// Extends a CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) over `len` bytes.
/// Pass 0 to start; the value returned is the finished CRC and can be passed again to continue.
/// Uses the SSE4.2 crc32 instruction when the CPU has it, otherwise slicing-by-8 tables.
uint32_t kafkatape_crc32c(uint32_t crc, const void *data, size_t len);

/// The portable slicing-by-8 implementation (exposed so benchmarks and tests can compare).
uint32_t kafkatape_crc32c_sw(uint32_t crc, const void *data, size_t len);

/// 1 when the hardware path is in use.
int kafkatape_crc32c_hw_available(void);

#endif
