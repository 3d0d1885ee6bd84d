// Adler-32 (RFC 1950), the checksum of ZooKeeper's snapshots and log entries, 32 bytes per step in SSE
// registers where the CPU has SSSE3, else byte by byte.
#include "zkrunbook_bytes.h"

enum { ADLER_MODULUS = 65521, ADLER_NMAX = 5552 };

static uint32_t adler32_scalar(uint32_t adler, const uint8_t *data, size_t length) {
    uint32_t a = adler & 0xffff, b = adler >> 16;
    while (length > 0) {
        size_t run = length < ADLER_NMAX ? length : ADLER_NMAX;
        length -= run;
        while (run--) {
            a += *data++;
            b += a;
        }
        a %= ADLER_MODULUS;
        b %= ADLER_MODULUS;
    }
    return (b << 16) | a;
}

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>

static int has_ssse3(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    return (ecx >> 9) & 1;
}

/// Each 32-byte block adds its bytes to `a` and, to `b`, 32 times the `a` it started with plus its bytes
/// weighted 32..1. The starting `a`s are summed in `prefix` and multiplied by 32 once per run; a run is at
/// most NMAX bytes so no 32-bit lane overflows before the modulus.
__attribute__((target("ssse3")))
static uint32_t adler32_ssse3(uint32_t adler, const uint8_t *data, size_t length) {
    uint32_t a = adler & 0xffff, b = adler >> 16;
    size_t blocks = length / 32;
    length -= blocks * 32;
    const __m128i weights_high = _mm_setr_epi8(32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17);
    const __m128i weights_low = _mm_setr_epi8(16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1);
    const __m128i zero = _mm_setzero_si128();
    const __m128i ones = _mm_set1_epi16(1);
    while (blocks > 0) {
        size_t run = blocks < ADLER_NMAX / 32 ? blocks : ADLER_NMAX / 32;
        blocks -= run;
        __m128i prefix = _mm_set_epi32(0, 0, 0, (int)(a * run));
        __m128i sum_b = _mm_set_epi32(0, 0, 0, (int)b);
        __m128i sum_a = zero;
        for (size_t step = 0; step < run; step++) {
            const __m128i first = _mm_loadu_si128((const __m128i *)data);
            const __m128i second = _mm_loadu_si128((const __m128i *)(data + 16));
            prefix = _mm_add_epi32(prefix, sum_a);
            sum_a = _mm_add_epi32(sum_a, _mm_sad_epu8(first, zero));
            sum_b = _mm_add_epi32(sum_b, _mm_madd_epi16(_mm_maddubs_epi16(first, weights_high), ones));
            sum_a = _mm_add_epi32(sum_a, _mm_sad_epu8(second, zero));
            sum_b = _mm_add_epi32(sum_b, _mm_madd_epi16(_mm_maddubs_epi16(second, weights_low), ones));
            data += 32;
        }
        sum_b = _mm_add_epi32(sum_b, _mm_slli_epi32(prefix, 5));
        // Horizontal sums of the four lanes.
        sum_a = _mm_add_epi32(sum_a, _mm_shuffle_epi32(sum_a, _MM_SHUFFLE(2, 3, 0, 1)));
        sum_a = _mm_add_epi32(sum_a, _mm_shuffle_epi32(sum_a, _MM_SHUFFLE(1, 0, 3, 2)));
        a += (uint32_t)_mm_cvtsi128_si32(sum_a);
        sum_b = _mm_add_epi32(sum_b, _mm_shuffle_epi32(sum_b, _MM_SHUFFLE(2, 3, 0, 1)));
        sum_b = _mm_add_epi32(sum_b, _mm_shuffle_epi32(sum_b, _MM_SHUFFLE(1, 0, 3, 2)));
        b = (uint32_t)_mm_cvtsi128_si32(sum_b);
        a %= ADLER_MODULUS;
        b %= ADLER_MODULUS;
    }
    return adler32_scalar((b << 16) | a, data, length);
}

uint32_t zkrunbook_adler32(uint32_t adler, const uint8_t *data, size_t length) {
    static int ssse3 = -1;
    if (ssse3 < 0) ssse3 = has_ssse3();
    return ssse3 ? adler32_ssse3(adler, data, length) : adler32_scalar(adler, data, length);
}

#else

uint32_t zkrunbook_adler32(uint32_t adler, const uint8_t *data, size_t length) { return adler32_scalar(adler, data, length); }

#endif
