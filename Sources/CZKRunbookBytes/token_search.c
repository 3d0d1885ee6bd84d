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

/// Shortest token length, at most 3: how many leading bytes the fingerprint filter looks at.
static size_t fingerprint_length(const zkrunbook_tokens *tokens) {
    size_t shortest = 3;
    for (size_t index = 0; index < tokens->count; index++)
        if (tokens->lengths[index] < shortest) shortest = tokens->lengths[index];
    return shortest;
}

/// Every hit from `from`, filtered by the tokens' first bytes all at once (the "Teddy" idea of Hyperscan and
/// ripgrep): tokens go into 8 buckets, one bit each; for each of the first 3 bytes, two 16-entry tables give
/// the buckets whose token has that low and that high nibble there. One block costs a few shuffles whatever
/// the number of tokens; a byte whose bucket bits survive all three is a candidate, compared whole.
__attribute__((target("avx2")))
static size_t all_tokens_avx2(const uint8_t *data, size_t length, size_t from, const zkrunbook_tokens *tokens, zkrunbook_token_hit *hits, size_t capacity, size_t *position_out) {
    size_t width = fingerprint_length(tokens);
    uint8_t low[3][16] = {{0}}, high[3][16] = {{0}};
    for (size_t index = 0; index < tokens->count; index++) {
        uint8_t bucket = (uint8_t)(1u << (index % 8));
        for (size_t offset = 0; offset < width; offset++) {
            uint8_t byte = tokens->bytes[index][offset];
            low[offset][byte & 0x0F] |= bucket;
            high[offset][byte >> 4] |= bucket;
        }
    }
    __m256i low_table[3], high_table[3];
    for (size_t offset = 0; offset < width; offset++) {
        low_table[offset] = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)low[offset]));
        high_table[offset] = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)high[offset]));
    }
    const __m256i nibble = _mm256_set1_epi8(0x0F), zero = _mm256_setzero_si256();
    size_t reach = longest_token(tokens) + 32;
    size_t position = from, count = 0;
    uint8_t buckets[32];
    for (; length >= reach && position <= length - reach; position += 32) {
        const uint8_t *block = data + position;
        __m256i candidates = _mm256_set1_epi8((char)0xFF);
        for (size_t offset = 0; offset < width; offset++) {
            __m256i bytes = _mm256_loadu_si256((const __m256i *)(block + offset));
            __m256i low_match = _mm256_shuffle_epi8(low_table[offset], _mm256_and_si256(bytes, nibble));
            __m256i high_match = _mm256_shuffle_epi8(high_table[offset], _mm256_and_si256(_mm256_srli_epi16(bytes, 4), nibble));
            candidates = _mm256_and_si256(candidates, _mm256_and_si256(low_match, high_match));
        }
        uint32_t any = ~(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(candidates, zero));
        if (!any) continue;
        _mm256_storeu_si256((__m256i *)buckets, candidates);
        while (any) {
            uint32_t bit = (uint32_t)__builtin_ctz(any);
            for (size_t index = 0; index < tokens->count; index++) {
                if (!(buckets[bit] & (1u << (index % 8))) || !token_matches(block + bit, tokens, index)) continue;
                if (count == capacity) {
                    *position_out = position + bit;
                    return count;
                }
                hits[count].position = position + bit;
                hits[count].token = index;
                count++;
            }
            any &= any - 1;
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
    return first_token_sse2(data, length, from, tokens, which);
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
