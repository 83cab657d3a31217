// CRC-32C (Castagnoli) as Kafka uses it for record batch v2 (KIP-98) and KafkaTape for capture records.
#include "kafka_crc.h"
#include <pthread.h>
#include <string.h>

#define POLY 0x82F63B78u

static uint32_t table[8][256];
static int table_ready = 0;
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void build_tables(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ POLY : c >> 1;
        table[0][n] = c;
    }
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = table[0][n];
        for (int k = 1; k < 8; k++) {
            c = table[0][c & 0xff] ^ (c >> 8);
            table[k][n] = c;
        }
    }
    __atomic_store_n(&table_ready, 1, __ATOMIC_RELEASE);
}

static void ensure_tables(void) {
    if (!__atomic_load_n(&table_ready, __ATOMIC_ACQUIRE)) pthread_once(&table_once, build_tables);
}

uint32_t kafkatape_crc32c_sw(uint32_t crc, const void *data, size_t len) {
    ensure_tables();
    const unsigned char *p = (const unsigned char *)data;
    uint32_t c = ~crc;
    while (len && ((uintptr_t)p & 7)) { c = table[0][(c ^ *p++) & 0xff] ^ (c >> 8); len--; }
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        w ^= c;
        c = table[7][w & 0xff] ^ table[6][(w >> 8) & 0xff] ^ table[5][(w >> 16) & 0xff] ^
            table[4][(w >> 24) & 0xff] ^ table[3][(w >> 32) & 0xff] ^ table[2][(w >> 40) & 0xff] ^
            table[1][(w >> 48) & 0xff] ^ table[0][(w >> 56) & 0xff];
        p += 8; len -= 8;
    }
    while (len--) c = table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    return ~c;
}

#if defined(__x86_64__)
#include <cpuid.h>
__attribute__((target("sse4.2")))
static uint32_t crc32c_hw(uint32_t crc, const void *data, size_t len) {
    const unsigned char *p = (const unsigned char *)data;
    uint64_t c = ~crc;
    while (len && ((uintptr_t)p & 7)) { c = __builtin_ia32_crc32qi((uint32_t)c, *p++); len--; }
    // Three independent streams hide the instruction's 3-cycle latency on large inputs.
    while (len >= 3 * 1024) {
        uint64_t c0 = c, c1 = 0, c2 = 0;
        const unsigned char *p1 = p + 1024, *p2 = p + 2048;
        for (int i = 0; i < 1024; i += 8) {
            uint64_t a, b, d;
            memcpy(&a, p + i, 8); memcpy(&b, p1 + i, 8); memcpy(&d, p2 + i, 8);
            c0 = __builtin_ia32_crc32di(c0, a);
            c1 = __builtin_ia32_crc32di(c1, b);
            c2 = __builtin_ia32_crc32di(c2, d);
        }
        // Combine: shift c0 over 2048 bytes and c1 over 1024 bytes of zeros, via the software shift below.
        extern uint32_t kafkatape_crc32c_shift(uint32_t crc, size_t zeros);
        c = kafkatape_crc32c_shift((uint32_t)c0, 2048) ^ kafkatape_crc32c_shift((uint32_t)c1, 1024) ^ (uint32_t)c2;
        p += 3 * 1024; len -= 3 * 1024;
    }
    while (len >= 8) { uint64_t w; memcpy(&w, p, 8); c = __builtin_ia32_crc32di(c, w); p += 8; len -= 8; }
    while (len--) c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
    return ~(uint32_t)c;
}

static int hw_state = -1;
int kafkatape_crc32c_hw_available(void) {
    int state = __atomic_load_n(&hw_state, __ATOMIC_ACQUIRE);
    if (state < 0) {
        unsigned a, b, c, d;
        state = (__get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSE4_2)) ? 1 : 0;
        __atomic_store_n(&hw_state, state, __ATOMIC_RELEASE);
    }
    return state;
}
#else
int kafkatape_crc32c_hw_available(void) { return 0; }
#endif

// Multiplication in GF(2) modulo the reflected polynomial, for combining parallel streams:
// crc_shift(c, n) is the raw (un-inverted) register after feeding n zero bytes into register c.
static uint32_t gf2_multiply(uint32_t a, uint32_t b) {
    uint32_t product = 0;
    for (int i = 0; i < 32; i++) {
        if (a & 0x80000000u) product ^= b;
        a <<= 1;
        b = (b & 1) ? (b >> 1) ^ POLY : b >> 1;
    }
    return product;
}

static uint32_t x_pow_8n(size_t n) {
    // x^(8n) mod P in reflected representation; x^0 is 0x80000000.
    uint32_t result = 0x80000000u, base = 0x00800000u; // x^8
    while (n) {
        if (n & 1) result = gf2_multiply(result, base);
        base = gf2_multiply(base, base);
        n >>= 1;
    }
    return result;
}

// Cached shift operators; computing one twice is harmless, so relaxed atomics are enough.
static uint32_t shift_1024 = 0, shift_2048 = 0;
static uint32_t cached_shift(uint32_t *slot, size_t zeros) {
    uint32_t m = __atomic_load_n(slot, __ATOMIC_RELAXED);
    if (!m) {
        m = x_pow_8n(zeros);
        __atomic_store_n(slot, m, __ATOMIC_RELAXED);
    }
    return m;
}

uint32_t kafkatape_crc32c_shift(uint32_t crc, size_t zeros) {
    uint32_t m;
    if (zeros == 1024) m = cached_shift(&shift_1024, 1024);
    else if (zeros == 2048) m = cached_shift(&shift_2048, 2048);
    else m = x_pow_8n(zeros);
    return gf2_multiply(crc, m);
}

uint32_t kafkatape_crc32c(uint32_t crc, const void *data, size_t len) {
#if defined(__x86_64__)
    if (kafkatape_crc32c_hw_available()) return crc32c_hw(crc, data, len);
#endif
    return kafkatape_crc32c_sw(crc, data, len);
}
