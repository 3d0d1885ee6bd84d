// Many fixed tokens found in one pass over a buffer (doctor's log signatures).
#define _GNU_SOURCE
#include "zkrunbook_bytes.h"
#include <string.h>

static int token_matches(const uint8_t *at, const zkrunbook_tokens *tokens, size_t index) {
    return memcmp(at, tokens->bytes[index], tokens->lengths[index]) == 0;
}

/// Position by position: the tail of a buffer, and CPUs without SIMD.
static long first_token_scalar(const uint8_t *data, size_t length, size_t from, const zkrunbook_tokens *tokens, size_t *which) {
    for (size_t position = from; position < length; position++) {
        for (size_t index = 0; index < tokens->count; index++) {
            size_t size = tokens->lengths[index];
            if (size <= length - position && data[position] == tokens->bytes[index][0] && token_matches(data + position, tokens, index)) {
                *which = index;
                return (long)position;
            }
        }
    }
    return -1;
}

/// 1 to 64 tokens, none empty.
static int usable(const zkrunbook_tokens *tokens) {
    if (tokens->count == 0 || tokens->count > 64) return 0;
    for (size_t index = 0; index < tokens->count; index++)
        if (tokens->lengths[index] == 0) return 0;
    return 1;
}

long zkrunbook_first_token(const uint8_t *data, size_t length, size_t from, const zkrunbook_tokens *tokens, size_t *which);

/// Every hit from `from` on, through the first-token search: the SSE2 path, other CPUs, and the tail the
/// AVX2 loop leaves. Several tokens may start at one position: each is reported.
static size_t all_tokens_by_first(const uint8_t *data, size_t length, size_t from, const zkrunbook_tokens *tokens, zkrunbook_token_hit *hits, size_t capacity) {
    size_t count = 0, which = 0;
    while (count < capacity && from < length) {
        long found = zkrunbook_first_token(data, length, from, tokens, &which);
        if (found < 0) break;
        size_t position = (size_t)found;
        for (size_t index = which; index < tokens->count && count < capacity; index++) {
            if (tokens->lengths[index] <= length - position && token_matches(data + position, tokens, index)) {
                hits[count].position = position;
                hits[count].token = index;
                count++;
            }
        }
        from = position + 1;
    }
    return count;
}

static size_t longest_token(const zkrunbook_tokens *tokens) {
    size_t longest = 0;
    for (size_t index = 0; index < tokens->count; index++)
        if (tokens->lengths[index] > longest) longest = tokens->lengths[index];
    return longest;
}

#if defined(__x86_64__)
#include <immintrin.h>

/// Among the candidate bits of one token in the block at `block`, the first whose whole token matches and
/// lies before `best`; updates best/which.
static inline void confirm(uint32_t candidates, const uint8_t *block, const zkrunbook_tokens *tokens, size_t index, uint32_t *best, size_t *which) {
    while (candidates) {
        uint32_t bit = (uint32_t)__builtin_ctz(candidates);
        if (bit >= *best) return;
        if (token_matches(block + bit, tokens, index)) {
            *best = bit;
            *which = index;
            return;
        }
        candidates &= candidates - 1;
    }
}

__attribute__((target("avx2")))
static long first_token_avx2(const uint8_t *data, size_t length, size_t from, const zkrunbook_tokens *tokens, size_t *which) {
    __m256i firsts[64], lasts[64];
    for (size_t index = 0; index < tokens->count; index++) {
        firsts[index] = _mm256_set1_epi8((char)tokens->bytes[index][0]);
        lasts[index] = _mm256_set1_epi8((char)tokens->bytes[index][tokens->lengths[index] - 1]);
    }
    size_t reach = longest_token(tokens) + 32;
    size_t position = from;
    for (; length >= reach && position <= length - reach; position += 32) {
        const uint8_t *block = data + position;
        __m256i here = _mm256_loadu_si256((const __m256i *)block);
        // Most blocks hold no candidate of any token: one test for all of them.
        __m256i any = _mm256_setzero_si256();
        for (size_t index = 0; index < tokens->count; index++) {
            __m256i tail = _mm256_loadu_si256((const __m256i *)(block + tokens->lengths[index] - 1));
            any = _mm256_or_si256(any, _mm256_and_si256(_mm256_cmpeq_epi8(here, firsts[index]), _mm256_cmpeq_epi8(tail, lasts[index])));
        }
        if (_mm256_testz_si256(any, any)) continue;
        uint32_t best = 32;
        for (size_t index = 0; index < tokens->count; index++) {
            __m256i tail = _mm256_loadu_si256((const __m256i *)(block + tokens->lengths[index] - 1));
            __m256i both = _mm256_and_si256(_mm256_cmpeq_epi8(here, firsts[index]), _mm256_cmpeq_epi8(tail, lasts[index]));
            uint32_t candidates = (uint32_t)_mm256_movemask_epi8(both);
            if (candidates) confirm(candidates, block, tokens, index, &best, which);
        }
        if (best < 32) return (long)(position + best);
    }
    return first_token_scalar(data, length, position, tokens, which);
}


/// Appends the hits of one block whose candidate masks are `masks`, in order of position then token.
static inline size_t append_block_hits(const uint8_t *block, size_t position, const uint32_t *masks, uint32_t any, const zkrunbook_tokens *tokens,
                                       zkrunbook_token_hit *hits, size_t count, size_t capacity, size_t *resume) {
    while (any) {
        uint32_t bit = (uint32_t)__builtin_ctz(any);
        for (size_t index = 0; index < tokens->count; index++) {
            if (!((masks[index] >> bit) & 1) || !token_matches(block + bit, tokens, index)) continue;
            if (count == capacity) {
                *resume = position + bit;
                return count;
            }
            hits[count].position = position + bit;
            hits[count].token = index;
            count++;
        }
        any &= any - 1;
    }
    return count;
}

__attribute__((target("avx2")))
static size_t all_tokens_avx2(const uint8_t *data, size_t length, size_t from, const zkrunbook_tokens *tokens, zkrunbook_token_hit *hits, size_t capacity, size_t *position_out) {
    __m256i firsts[64], lasts[64];
    for (size_t index = 0; index < tokens->count; index++) {
        firsts[index] = _mm256_set1_epi8((char)tokens->bytes[index][0]);
        lasts[index] = _mm256_set1_epi8((char)tokens->bytes[index][tokens->lengths[index] - 1]);
    }
    size_t reach = longest_token(tokens) + 32;
    size_t position = from, count = 0, resume = (size_t)-1;
    uint32_t masks[64];
    for (; length >= reach && position <= length - reach; position += 32) {
        const uint8_t *block = data + position;
        __m256i here = _mm256_loadu_si256((const __m256i *)block);
        uint32_t any = 0;
        for (size_t index = 0; index < tokens->count; index++) {
            __m256i tail = _mm256_loadu_si256((const __m256i *)(block + tokens->lengths[index] - 1));
            masks[index] = (uint32_t)_mm256_movemask_epi8(_mm256_and_si256(_mm256_cmpeq_epi8(here, firsts[index]), _mm256_cmpeq_epi8(tail, lasts[index])));
            any |= masks[index];
        }
        if (!any) continue;
        count = append_block_hits(block, position, masks, any, tokens, hits, count, capacity, &resume);
        if (resume != (size_t)-1) {
            *position_out = resume;
            return count;
        }
    }
    *position_out = position;
    return count;
}

static long first_token_sse2(const uint8_t *data, size_t length, size_t from, const zkrunbook_tokens *tokens, size_t *which) {
    __m128i firsts[64], lasts[64];
    for (size_t index = 0; index < tokens->count; index++) {
        firsts[index] = _mm_set1_epi8((char)tokens->bytes[index][0]);
        lasts[index] = _mm_set1_epi8((char)tokens->bytes[index][tokens->lengths[index] - 1]);
    }
    size_t reach = longest_token(tokens) + 16;
    size_t position = from;
    for (; length >= reach && position <= length - reach; position += 16) {
        const uint8_t *block = data + position;
        __m128i here = _mm_loadu_si128((const __m128i *)block);
        uint32_t best = 16;
        for (size_t index = 0; index < tokens->count; index++) {
            __m128i tail = _mm_loadu_si128((const __m128i *)(block + tokens->lengths[index] - 1));
            __m128i both = _mm_and_si128(_mm_cmpeq_epi8(here, firsts[index]), _mm_cmpeq_epi8(tail, lasts[index]));
            uint32_t candidates = (uint32_t)_mm_movemask_epi8(both);
            if (candidates) confirm(candidates, block, tokens, index, &best, which);
        }
        if (best < 16) return (long)(position + best);
    }
    return first_token_scalar(data, length, position, tokens, which);
}

size_t zkrunbook_all_tokens(const uint8_t *data, size_t length, size_t from, const zkrunbook_tokens *tokens, zkrunbook_token_hit *hits, size_t capacity) {
    if (!usable(tokens) || capacity == 0) return 0;
    size_t count = 0;
    if (__builtin_cpu_supports("avx2")) {
        size_t position = from;
        count = all_tokens_avx2(data, length, from, tokens, hits, capacity, &position);
        if (count == capacity) return count;
        from = position;
    }
    return count + all_tokens_by_first(data, length, from, tokens, hits + count, capacity - count);
}

long zkrunbook_first_token(const uint8_t *data, size_t length, size_t from, const zkrunbook_tokens *tokens, size_t *which) {
    if (!usable(tokens) || from >= length) return -1;
    return __builtin_cpu_supports("avx2") ? first_token_avx2(data, length, from, tokens, which) : first_token_sse2(data, length, from, tokens, which);
}

#else

size_t zkrunbook_all_tokens(const uint8_t *data, size_t length, size_t from, const zkrunbook_tokens *tokens, zkrunbook_token_hit *hits, size_t capacity) {
    if (!usable(tokens) || capacity == 0) return 0;
    return all_tokens_by_first(data, length, from, tokens, hits, capacity);
}

long zkrunbook_first_token(const uint8_t *data, size_t length, size_t from, const zkrunbook_tokens *tokens, size_t *which) {
    if (!usable(tokens) || from >= length) return -1;
    return first_token_scalar(data, length, from, tokens, which);
}

#endif

const void *zkrunbook_last_byte(const void *data, int byte, size_t length) { return memrchr(data, byte, length); }
